/**
 * The deploy-time import of the WAF dashboard (the monitor's `kibanaDashboards`): what the custom resource's properties
 * mean and what each CloudFormation request does with them. Pure except for {@link runDashboardsRequest}, which takes
 * the authentication and the HTTP calls from the caller (saved-objects-import.ts does the I/O).
 */
import { createHash } from 'node:crypto';
import { CredentialsConfig } from './config';
import {
  apiBase, DeletedObject, deleteSavedObjects, ImportedObject, ImportResult, importSavedObjects, importUrlErrors, objectsInNdjson,
  productName, SavedObjectsImportError,
} from './saved-objects-import';
import { Authenticate } from './search-transport';
import { DashboardFlavour, DashboardSource, dashboardId, toNdjson, wafSavedObjects } from '../saved-objects/saved-objects';

/** The CloudFormation type of the resource. */
export const DASHBOARDS_RESOURCE_TYPE = 'Custom::WafKibanaDashboards';

/**
 * The resource's properties as CloudFormation passes them (every value a string). `Source` is the monitor's field
 * settings, so a renamed field is a changed property and so an Update; `Digest` is the generated objects' hash, so a
 * new version of the generator updates them too.
 */
export interface DashboardsResourceProperties {
  readonly Endpoint: string;
  readonly Flavour: string;
  /** JSON of the {@link DashboardSource} without the engine (the flavour is given). */
  readonly Source: string;
  readonly Digest: string;
  readonly RemoveOnDelete: string;
  /** JSON of the collector's {@link CredentialsConfig}; absent when requests are signed with the role. */
  readonly Credentials?: string;
  /** Region to sign for (service `es`), when requests are signed with the role. */
  readonly SigningRegion?: string;
}

/** The properties read and checked. */
export interface DashboardsSettings {
  readonly endpoint: string;
  readonly flavour: DashboardFlavour;
  readonly source: DashboardSource;
  readonly removeOnDelete: boolean;
  readonly credentials?: CredentialsConfig;
  readonly signingRegion?: string;
}

/** The source as the resource holds it: no engine (it only picks the flavour, which is a property of its own). */
export function resourceSource(source: DashboardSource): DashboardSource {
  // Picked one by one: the collector's configuration, which is a source too, holds the endpoint and the secret's ARN.
  return {
    indexPattern: source.indexPattern,
    fields: source.fields,
    statusValues: source.statusValues,
    apdexTMs: source.apdexTMs,
    ...(source.apdexDefinition === undefined ? {} : { apdexDefinition: source.apdexDefinition }),
  };
}

/** The generated objects, in import order. */
export function dashboardsNdjson(source: DashboardSource, flavour: DashboardFlavour): string {
  return toNdjson(wafSavedObjects(resourceSource(source), flavour));
}

/** The hash of the objects the resource imports; a different generator output is a different value. */
export function dashboardsDigest(source: DashboardSource, flavour: DashboardFlavour): string {
  return createHash('sha256').update(dashboardsNdjson(source, flavour)).digest('hex');
}

/** Reads the properties; throws with what is wrong (a template edited by hand, or another version's properties). */
export function parseDashboardsProperties(p: Partial<DashboardsResourceProperties> | undefined): DashboardsSettings {
  const errors: string[] = [];
  const endpoint = p?.Endpoint ?? '';
  errors.push(...importUrlErrors(endpoint).map((e) => `Endpoint: ${e}`));
  const flavour = p?.Flavour;
  if (flavour !== 'kibana' && flavour !== 'opensearch') errors.push(`Flavour must be kibana or opensearch, got ${JSON.stringify(flavour)}`);
  let source: DashboardSource | undefined;
  try {
    source = JSON.parse(p?.Source ?? '') as DashboardSource;
    if (typeof source?.indexPattern !== 'string' || typeof source.fields !== 'object' || typeof source.statusValues !== 'object') {
      throw new Error('no indexPattern, fields and statusValues');
    }
  } catch (e) {
    errors.push(`Source must be the monitor's field settings as JSON: ${(e as Error).message}`);
  }
  let credentials: CredentialsConfig | undefined;
  if (p?.Credentials !== undefined && p.Credentials !== '') {
    try {
      credentials = JSON.parse(p.Credentials) as CredentialsConfig;
      if (typeof credentials?.secretArn !== 'string') throw new Error('no secretArn');
    } catch (e) {
      errors.push(`Credentials must be the collector's credentials as JSON: ${(e as Error).message}`);
    }
  } else if (!p?.SigningRegion) {
    errors.push('give Credentials (a secret) or SigningRegion (SigV4 with the role)');
  }
  if (errors.length > 0) throw new Error(`invalid properties of ${DASHBOARDS_RESOURCE_TYPE}: ${errors.join('; ')}`);
  return {
    endpoint,
    flavour: flavour as DashboardFlavour,
    source: source!,
    removeOnDelete: p?.RemoveOnDelete === 'true',
    credentials,
    signingRegion: credentials ? undefined : p?.SigningRegion,
  };
}

/**
 * The physical id: the product's URL, the flavour and the dashboard's id. When one of them changes (another Kibana,
 * another index pattern and so other object ids) CloudFormation deletes the old resource, which removes the old
 * objects if `removeOnDelete` asked for it; field changes keep the id and overwrite the objects in place. The URL is
 * hashed as the requests use it (host case, default port, trailing slash do not count): a respelling of the same
 * Kibana must not look like another one, or the Delete of the "old" resource would remove the objects just imported.
 */
export function dashboardsPhysicalId(settings: DashboardsSettings): string {
  const base = apiBase(settings.endpoint, settings.flavour);
  const at = createHash('sha256').update(`${base}\n${settings.flavour}`).digest('hex').slice(0, 16);
  return `waf-dashboards:${settings.flavour}:${at}:${dashboardId(resourceSource(settings.source), settings.flavour)}`;
}

/** Given to a Create that failed, so its rollback's Delete knows there is nothing to remove and contacts nobody. */
export const FAILED_CREATE_PREFIX = 'waf-dashboards-not-created:';

/** The objects of the source, in the order to delete them: the dashboard first, the index pattern last. */
export function objectsToDelete(settings: DashboardsSettings): Array<{ type: string; id: string }> {
  return objectsInNdjson(dashboardsNdjson(settings.source, settings.flavour)).reverse().map(({ type, id }) => ({ type, id }));
}

/** CloudFormation shows at most a few kilobytes of the reason: the first failures, and how many more. */
const REASON_CHARS = 1500;

function limit(text: string): string {
  return text.length <= REASON_CHARS ? text : `${text.slice(0, REASON_CHARS - 1)}…`;
}

/** What the import did, for the reason of a success, or why it failed, object by object. */
export function importReason(result: ImportResult, settings: DashboardsSettings): string {
  const count = (outcome: ImportedObject['outcome']) => result.objects.filter((o) => o.outcome === outcome).length;
  const product = `${productName(settings.flavour)} at ${settings.endpoint}`;
  const failed = result.objects.filter((o) => o.outcome === 'failed');
  if (failed.length === 0) return `${product}: ${count('created')} created, ${count('updated')} updated`;
  const each = failed.map((o) => `${o.type} ${o.id}${o.title ? ` "${o.title}"` : ''}: ${o.error?.message ?? 'failed'}`);
  return limit(`${product}: ${failed.length} of ${result.objects.length} saved objects failed to import: ${each.join('; ')}`);
}

/** Why a removal failed, object by object; undefined when every object is gone. */
export function deleteFailureReason(deleted: readonly DeletedObject[], settings: DashboardsSettings): string | undefined {
  const failed = deleted.filter((d) => d.outcome === 'failed');
  if (failed.length === 0) return undefined;
  const each = failed.map((d) => `${d.type} ${d.id}: ${d.message}`);
  return limit(`${productName(settings.flavour)} at ${settings.endpoint}: ${failed.length} of ${deleted.length} saved objects ` +
    `could not be removed (removeOnDelete): ${each.join('; ')}; remove them by hand, or set removeOnDelete to false to leave them`);
}

/**
 * A product out of reach on Delete (decommissioned, or its network path gone with the stack) is no reason to block the
 * stack's deletion: nothing else could remove the objects later either, and an Update to drop `removeOnDelete` would
 * need the same product. SUCCESS, naming the objects left behind (in the reason, the log and the response's Data).
 */
export function leftBehind(failed: readonly DeletedObject[], settings: DashboardsSettings, physicalId: string): DashboardsOutcome {
  const names = failed.map((d) => `${d.type}:${d.id}`);
  return {
    Status: 'SUCCESS',
    Reason: limit(`${productName(settings.flavour)} at ${settings.endpoint} is out of reach (${failed[0].message}): ` +
      `${names.length} saved objects left behind, remove them by hand if it comes back: ${names.join(', ')}`),
    PhysicalResourceId: physicalId,
    Data: { LeftBehind: names.join(',') },
  };
}

/** The part of a CloudFormation custom resource request the handler reads. */
export interface DashboardsRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly RequestId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Partial<DashboardsResourceProperties>;
  /** The properties before an Update. */
  readonly OldResourceProperties?: Partial<DashboardsResourceProperties>;
}

/** The answer to CloudFormation. */
export interface DashboardsOutcome {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason: string;
  readonly PhysicalResourceId: string;
  readonly Data?: {
    readonly DashboardId?: string;
    /** `type:id` of the objects a Delete could not remove, comma-separated. */
    readonly LeftBehind?: string;
  };
}

/**
 * On an Update that targets the same objects as before (same product, flavour and dashboard id, however spelled), the
 * id the resource already has. A resource created by an earlier version has an id hashed from the raw URL; answering a
 * new id for it would make CloudFormation delete the "old" resource, and with `removeOnDelete` the objects just imported.
 */
function keptPhysicalId(request: DashboardsRequest, settings: DashboardsSettings): string | undefined {
  const current = request.PhysicalResourceId;
  if (request.RequestType !== 'Update' || current === undefined || current.startsWith(FAILED_CREATE_PREFIX)) return undefined;
  try {
    const before = parseDashboardsProperties(request.OldResourceProperties);
    return dashboardsPhysicalId(before) === dashboardsPhysicalId(settings) ? current : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes the objects a failed Create created (not those it overwrote: they were there before, maybe another stack's),
 * dashboard first; says what happened, for the reason.
 */
async function removeCreated(result: ImportResult, settings: DashboardsSettings, authenticate: Authenticate, timeoutMs?: number): Promise<string> {
  const created = new Set(result.objects.filter((o) => o.outcome === 'created').map((o) => `${o.type}:${o.id}`));
  const objects = objectsToDelete(settings).filter((o) => created.has(`${o.type}:${o.id}`));
  if (objects.length === 0) return '';
  const deleted = await deleteSavedObjects({
    url: settings.endpoint, flavour: settings.flavour, objects, authenticate, signed: settings.credentials === undefined, timeoutMs,
  });
  const left = deleted.filter((d) => d.outcome === 'failed');
  if (left.length === 0) return `; the ${objects.length} objects this import created were removed (removeOnDelete)`;
  return `; ${left.length} of the ${objects.length} objects this import created could not be removed (removeOnDelete), remove them by hand: ` +
    left.map((d) => `${d.type} ${d.id}: ${d.message}`).join('; ');
}

/** A resource of the stack as CloudFormation lists it. */
export interface StackResource {
  readonly LogicalResourceId?: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceType?: string;
  readonly ResourceStatus?: string;
}

/** The stack's resources now (DescribeStackResources of the request's stack). */
export type StackResourcesLookup = (request: DashboardsRequest & { readonly StackId: string }) => Promise<readonly StackResource[]>;

/**
 * Another live resource of the stack that holds the same objects (its physical id names the same product, flavour and
 * dashboard id): a replacement whose new resource just imported them, or a second monitor on the same Kibana and index
 * pattern. Its logical id, or undefined when none (or the stack cannot be read: the objects are then removed as asked).
 */
async function stillImportedBy(request: DashboardsRequest, settings: DashboardsSettings, lookup: StackResourcesLookup): Promise<string | undefined> {
  const r = request as DashboardsRequest & { readonly StackId?: string; readonly LogicalResourceId?: string };
  if (r.StackId === undefined) return undefined;
  let resources: readonly StackResource[];
  try {
    resources = await lookup(r as DashboardsRequest & { readonly StackId: string });
  } catch {
    return undefined;
  }
  const same = dashboardsPhysicalId(settings);
  const other = resources.find((o) => o.ResourceType === DASHBOARDS_RESOURCE_TYPE && o.PhysicalResourceId === same
    && !(o.ResourceStatus ?? '').startsWith('DELETE')
    && !(o.LogicalResourceId === r.LogicalResourceId && o.PhysicalResourceId === request.PhysicalResourceId));
  return other?.LogicalResourceId ?? (other ? 'another resource' : undefined);
}

/** Authentication for the settings: a header from the secret, or a SigV4 signature. */
export type AuthenticatorFor = (settings: DashboardsSettings) => Promise<Authenticate>;

/**
 * Create and Update import the objects with overwrite (same ids: updated in place, never copied); Delete leaves them,
 * or with `removeOnDelete` deletes them by id. Every failure is FAILED with the per-object reasons.
 */
export async function runDashboardsRequest(
  request: DashboardsRequest, authenticatorFor: AuthenticatorFor, timeoutMs?: number, stackResources?: StackResourcesLookup,
): Promise<DashboardsOutcome> {
  const keep = request.PhysicalResourceId ?? `${FAILED_CREATE_PREFIX}${request.RequestId}`;
  if (request.RequestType === 'Delete') {
    // Nothing was created (a failed Create's rollback), or the objects stay.
    if (keep.startsWith(FAILED_CREATE_PREFIX)) return { Status: 'SUCCESS', Reason: 'nothing was imported', PhysicalResourceId: keep };
    let settings: DashboardsSettings;
    try {
      settings = parseDashboardsProperties(request.ResourceProperties);
    } catch (e) {
      // Properties this version cannot read name no objects it could remove; blocking the stack's deletion helps nobody.
      return { Status: 'SUCCESS', Reason: `left in place: ${(e as Error).message}`, PhysicalResourceId: keep };
    }
    if (!settings.removeOnDelete) {
      return { Status: 'SUCCESS', Reason: `saved objects left in ${productName(settings.flavour)} (removeOnDelete is false)`, PhysicalResourceId: keep };
    }
    const sharer = stackResources && await stillImportedBy(request, settings, stackResources);
    if (sharer) {
      return {
        Status: 'SUCCESS',
        Reason: `saved objects left in ${productName(settings.flavour)}: ${sharer} of this stack imported the same ones (same product, flavour and ids)`,
        PhysicalResourceId: keep,
      };
    }
    try {
      const deleted = await deleteSavedObjects({
        url: settings.endpoint,
        flavour: settings.flavour,
        objects: objectsToDelete(settings),
        authenticate: await authenticatorFor(settings),
        signed: settings.credentials === undefined,
        timeoutMs,
      });
      const failed = deleted.filter((d) => d.outcome === 'failed');
      if (failed.length > 0 && failed.every((d) => d.unreachable)) return leftBehind(failed, settings, keep);
      const failure = deleteFailureReason(deleted, settings);
      if (failure) return { Status: 'FAILED', Reason: failure, PhysicalResourceId: keep };
      const gone = deleted.filter((d) => d.outcome === 'deleted').length;
      return { Status: 'SUCCESS', Reason: `${gone} saved objects removed, ${deleted.length - gone} were not there`, PhysicalResourceId: keep };
    } catch (e) {
      return { Status: 'FAILED', Reason: limit(`cannot remove the saved objects: ${(e as Error).message}`), PhysicalResourceId: keep };
    }
  }

  // A Create that fails gets an id its rollback recognises; a failed Update keeps the old id (CloudFormation rolls back).
  const onFailure = request.RequestType === 'Create' ? `${FAILED_CREATE_PREFIX}${request.RequestId}` : keep;
  let settings: DashboardsSettings;
  try {
    settings = parseDashboardsProperties(request.ResourceProperties);
  } catch (e) {
    return { Status: 'FAILED', Reason: limit((e as Error).message), PhysicalResourceId: onFailure };
  }
  const physicalId = keptPhysicalId(request, settings) ?? dashboardsPhysicalId(settings);
  try {
    const authenticate = await authenticatorFor(settings);
    const result = await importSavedObjects({
      url: settings.endpoint,
      flavour: settings.flavour,
      ndjson: dashboardsNdjson(settings.source, settings.flavour),
      overwrite: true,
      authenticate,
      signed: settings.credentials === undefined,
      timeoutMs,
    });
    const reason = importReason(result, settings);
    if (!result.success) {
      // The rollback's Delete of a failed Create contacts nobody, so what this Create did import is removed now.
      const cleanup = request.RequestType === 'Create' && settings.removeOnDelete
        ? await removeCreated(result, settings, authenticate, timeoutMs) : '';
      return { Status: 'FAILED', Reason: `${reason}${cleanup}`, PhysicalResourceId: onFailure };
    }
    return {
      Status: 'SUCCESS',
      Reason: reason,
      PhysicalResourceId: physicalId,
      Data: { DashboardId: dashboardId(resourceSource(settings.source), settings.flavour) },
    };
  } catch (e) {
    const message = e instanceof SavedObjectsImportError ? e.message : `${(e as Error).name}: ${(e as Error).message}`;
    return { Status: 'FAILED', Reason: limit(`${productName(settings.flavour)} at ${settings.endpoint}: ${message}`), PhysicalResourceId: onFailure };
  }
}
