// semantic-release plugin that runs another plugin (option `wrappedPlugin`) everywhere except on
// prerelease branches (develop, feature/*): CHANGELOG.md, the package.json version and the release commit
// are for stable lines only.

async function load(pluginConfig) {
  const name = pluginConfig.wrappedPlugin;
  if (!name) throw new Error("stable-only: set the `wrappedPlugin` option to the plugin to wrap");
  const mod = await import(name);
  return mod.default ?? mod;
}

async function step(type, pluginConfig, context) {
  const plugin = await load(pluginConfig);
  if (typeof plugin[type] !== "function") return undefined;
  if (type !== "verifyConditions" && context.branch?.type === "prerelease") {
    context.logger.log(`Skipping ${pluginConfig.wrappedPlugin} (${type}) on prerelease branch ${context.branch.name}`);
    return undefined;
  }
  return plugin[type](pluginConfig, context);
}

export const verifyConditions = (pluginConfig, context) => step("verifyConditions", pluginConfig, context);
export const prepare = (pluginConfig, context) => step("prepare", pluginConfig, context);
