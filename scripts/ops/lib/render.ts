// Renders a kustomize overlay and points the app image at the release being deployed. The overlay's
// `images:` entry names the image `transportation-api`; rewriting the rendered output (rather than
// `kustomize edit set image`) leaves the checkout untouched, so a laptop deploy changes no files.
import { type Document, isScalar, parseAllDocuments } from "yaml";
import { CHANGE_CAUSE_ANNOTATION } from "./rollout";

export interface RenderedManifests {
  /** Everything except the Deployment and the migration Job, applied first. */
  config: Document[];
  deployment: Document;
  migrationJob: Document | undefined;
  /** kind/name of every object, for the log (never the contents: Secrets may be in there). */
  objects: string[];
  /** Values of Secret data, so the caller can mask them. */
  secretValues: string[];
}

export interface RenderOptions {
  deploymentName: string;
  migrationJobName: string;
  /** Image repository, e.g. ghcr.io/acme/transportation-api */
  image: string;
  tag: string;
  /** `sha256:…` of the image the tag named when it was built: pins the bytes that run (and roll back). */
  digest?: string;
  changeCause?: string;
}

const APP_IMAGE_NAME = "transportation-api";

/** True for the app image whatever registry/tag the overlay gave it (…/transportation-api[:tag]). */
export function isAppImage(image: string, repository: string): boolean {
  const name = repositoryOf(image);
  return name === repository || name === APP_IMAGE_NAME || name.endsWith(`/${APP_IMAGE_NAME}`);
}

type Json = Record<string, unknown>;

function podSpecOf(obj: Json): Json | undefined {
  const kind = obj.kind;
  const spec = obj.spec as Json | undefined;
  if (kind === "CronJob") return ((spec?.jobTemplate as Json)?.spec as Json)?.template as Json | undefined;
  return spec?.template as Json | undefined;
}

function setAppImage(doc: Document, image: string, repository: string): number {
  const obj = doc.toJS() as Json;
  const template = podSpecOf(obj);
  const podSpec = template?.spec as Json | undefined;
  let changed = 0;
  for (const key of ["initContainers", "containers"]) {
    const list = (podSpec?.[key] as Json[] | undefined) ?? [];
    list.forEach((c, i) => {
      if (typeof c.image === "string" && isAppImage(c.image, repository)) {
        const path =
          obj.kind === "CronJob"
            ? ["spec", "jobTemplate", "spec", "template", "spec", key, i, "image"]
            : ["spec", "template", "spec", key, i, "image"];
        doc.setIn(path, image);
        changed++;
      }
    });
  }
  return changed;
}

/** `repo:tag`, or `repo:tag@sha256:…` when the digest is known. */
export const imageRef = (image: string, tag: string, digest?: string) => `${image}:${tag}${digest ? `@${digest}` : ""}`;

export function renderWithImage(rendered: string, opts: RenderOptions): RenderedManifests {
  return renderWithImageRef(rendered, imageRef(opts.image, opts.tag, opts.digest), opts.image, opts);
}

/**
 * The overlay pointed at an image reference as it is (e.g. the one the live Deployment runs, for a
 * configuration change that must not move the image).
 */
export function renderKeepingImage(
  rendered: string,
  opts: { deploymentName: string; migrationJobName: string; image: string },
): RenderedManifests {
  return renderWithImageRef(rendered, opts.image, repositoryOf(opts.image), opts);
}

/** `ghcr.io/acme/app:1.2.3@sha256:…` → `ghcr.io/acme/app` (a registry port is not a tag). */
export function repositoryOf(image: string): string {
  return image.split("@")[0]!.replace(/:[^/:]+$/, "");
}

/** `---` with nothing after it, or only a comment: yaml 2 gives it a null scalar, not null contents. */
function isEmptyDocument(doc: Document): boolean {
  return doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null);
}

function renderWithImageRef(
  rendered: string,
  image: string,
  repository: string,
  opts: Pick<RenderOptions, "deploymentName" | "migrationJobName" | "changeCause">,
): RenderedManifests {
  const docs = parseAllDocuments(rendered).filter((d) => !isEmptyDocument(d));
  const config: Document[] = [];
  const objects: string[] = [];
  const secretValues: string[] = [];
  let deployment: Document | undefined;
  let migrationJob: Document | undefined;
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`kustomize output is not valid YAML: ${doc.errors[0]!.message}`);
    const obj = doc.toJS() as Json;
    const kind = String(obj.kind);
    const name = String((obj.metadata as Json | undefined)?.name);
    objects.push(`${kind}/${name}`);
    if (kind === "Secret") {
      for (const field of ["data", "stringData"]) {
        for (const v of Object.values((obj[field] as Record<string, string> | undefined) ?? {})) {
          secretValues.push(String(v));
          if (field === "data") secretValues.push(Buffer.from(String(v), "base64").toString("utf8"));
        }
      }
    }
    if (kind === "Deployment" && name === opts.deploymentName) {
      if (setAppImage(doc, image, repository) === 0) {
        throw new Error(`Deployment ${name} has no container running the ${APP_IMAGE_NAME} image`);
      }
      if (opts.changeCause) doc.setIn(["metadata", "annotations", CHANGE_CAUSE_ANNOTATION], opts.changeCause);
      deployment = doc;
    } else if (kind === "Job" && name === opts.migrationJobName) {
      setAppImage(doc, image, repository);
      migrationJob = doc;
    } else {
      if (kind === "CronJob") setAppImage(doc, image, repository);
      config.push(doc);
    }
  }
  if (!deployment) throw new Error(`the overlay renders no Deployment named ${opts.deploymentName}`);
  return { config, deployment, migrationJob, objects, secretValues };
}

export const toYaml = (docs: Document[]): string => docs.map((d) => d.toString()).join("---\n");

export function imageOf(doc: Document, container: string): string | undefined {
  const obj = doc.toJS() as Json;
  const containers = ((podSpecOf(obj)?.spec as Json | undefined)?.containers as Json[] | undefined) ?? [];
  return (containers.find((c) => c.name === container) ?? containers[0])?.image as string | undefined;
}
