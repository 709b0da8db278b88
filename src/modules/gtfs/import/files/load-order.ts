// The order files load in, derived from what each says it depends on: a file's rows are checked against
// the ids of the files they refer to, so those load first. Otherwise files keep the order they are
// listed in (files/all.ts says why that order).

export interface Dependent {
  readonly name: string;
  readonly dependsOn: readonly string[];
}

/** `files` in an order where each comes after every file it depends on; throws on a cycle or an unknown name. */
export function loadOrder<F extends Dependent>(files: readonly F[]): F[] {
  const byName = new Map(files.map((f) => [f.name, f]));
  for (const f of files)
    for (const dep of f.dependsOn)
      if (!byName.has(dep)) throw new Error(`${f.name} depends on ${dep}, which is not a feed file`);
  const order: F[] = [];
  const placed = new Set<string>();
  while (order.length < files.length) {
    // The first listed file whose dependencies are all placed (Kahn's algorithm, stable).
    const next = files.find((f) => !placed.has(f.name) && f.dependsOn.every((d) => placed.has(d)));
    if (!next)
      throw new Error(
        `feed files depend on each other in a cycle: ${files
          .filter((f) => !placed.has(f.name))
          .map((f) => f.name)
          .join(", ")}`,
      );
    order.push(next);
    placed.add(next.name);
  }
  return order;
}
