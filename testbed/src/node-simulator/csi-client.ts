// The kubelet side of the CSI Node service: a gRPC client of the node plugin over its socket, with
// errors worded as kubelet logs them (`rpc error: code = NotFound desc = ...`).
import { loadPackageDefinition, type Client, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { load } from '@grpc/proto-loader';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- proto-loader clients are untyped
export type NodeClient = Client & Record<string, any>;

export class CsiCallError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

const CODE_NAMES = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated'];

export function call<T = Record<string, unknown>>(client: NodeClient, method: string, req: object): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](req, { deadline: Date.now() + 60_000 }, (err: { code: number; details: string } | null, res: T) =>
      err ? reject(new CsiCallError(CODE_NAMES[err.code] ?? String(err.code), `rpc error: code = ${CODE_NAMES[err.code] ?? err.code} desc = ${err.details}`)) : resolve(res),
    );
  });
}


/** The generated client class of csi.v1.Node from the CSI spec's proto. */
export async function loadNodeService(protoPath: string): Promise<ServiceClientConstructor> {
  const def = await load(protoPath, { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true });
  return ((loadPackageDefinition(def)['csi'] as GrpcObject)['v1'] as GrpcObject)['Node'] as ServiceClientConstructor;
}
