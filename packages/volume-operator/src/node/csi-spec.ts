import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { load } from '@grpc/proto-loader';

/**
 * The CSI specification the plugin speaks, pinned. csi.proto is not committed: it comes from the
 * specification's Go module at this version through the Go module proxy (checksum-verified), fetched
 * by testbed/scripts/build-csi-tools.sh into the cache, and copied into the image at build time.
 */
export const CSI_SPEC_VERSION = 'v1.14.0';

/** Where the proto is looked for when neither `--csi-proto` nor `CSI_PROTO_PATH` says. */
export function defaultProtoPath(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env['KUBE_IAAS_CACHE'] ?? join(homedir(), '.cache', 'kube-iaas');
  return join(cache, `csi-spec-${CSI_SPEC_VERSION}`, 'csi.proto');
}

export interface CsiServices {
  Identity: ServiceClientConstructor;
  Node: ServiceClientConstructor;
  Controller: ServiceClientConstructor;
}

/**
 * Loads csi.proto with the plain-object mapping every handler relies on: camelCase fields, enums by
 * name, int64 as numbers (sizes stay far below 2^53), defaults filled in (an absent string is ''),
 * oneofs named (`accessType: 'mount' | 'block'`).
 */
export async function loadCsi(protoPath: string): Promise<CsiServices> {
  if (!existsSync(protoPath)) {
    throw new Error(`csi.proto ${CSI_SPEC_VERSION} not found at ${protoPath}: run testbed/scripts/build-csi-tools.sh, or point --csi-proto / CSI_PROTO_PATH at it`);
  }
  const def = await load(protoPath, { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true });
  const v1 = ((loadPackageDefinition(def)['csi'] as GrpcObject)['v1'] as GrpcObject);
  return {
    Identity: v1['Identity'] as ServiceClientConstructor,
    Node: v1['Node'] as ServiceClientConstructor,
    Controller: v1['Controller'] as ServiceClientConstructor,
  };
}
