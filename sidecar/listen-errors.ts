/**
 * Turns the errors `listen`, `readFile` and `createSecureContext` throw into
 * `start_failed` codes and sentences a game developer can act on.
 */
import { ErrorCode } from '../protocol/constants.js';

export interface StartFailure {
  code: string;
  message: string;
}

/** Explains a failed `listen(port, host)`. */
export function describeListenError(error: NodeJS.ErrnoException, port: number, host: string): StartFailure {
  const where = `port ${port} on ${host}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return {
        code: ErrorCode.ADDRESS_IN_USE,
        message: `${where} is already in use by another program: stop that program, or start on another port (0 picks a free one)`,
      };
    case 'EACCES':
    case 'EPERM':
      return {
        code: ErrorCode.PERMISSION_DENIED,
        message: `no permission to listen on ${where}: ports below 1024 need administrator rights, so use a port from 1024 to 65535`,
      };
    case 'EADDRNOTAVAIL':
    case 'EAFNOSUPPORT':
      return {
        code: ErrorCode.ADDRESS_NOT_AVAILABLE,
        message: `${host} is not an address of this machine: use "0.0.0.0" for every IPv4 address, "::" for IPv6 too, or "127.0.0.1" for this machine only`,
      };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return {
        code: ErrorCode.ADDRESS_NOT_AVAILABLE,
        message: `host name "${host}" does not resolve to an address: use an IP address such as "0.0.0.0" or "127.0.0.1"`,
      };
    default:
      return {
        code: ErrorCode.LISTEN_FAILED,
        message: `could not listen on ${where}: ${error.message}`,
      };
  }
}

/** Explains a TLS certificate or key file that could not be read. */
export function describeTlsReadError(error: NodeJS.ErrnoException, what: 'certificate' | 'key', path: string): StartFailure {
  const option = what === 'certificate' ? 'tls_cert_path' : 'tls_key_path';
  const reason =
    error.code === 'ENOENT' ? 'no such file' : error.code === 'EACCES' ? 'permission denied' : error.code === 'EISDIR' ? 'it is a folder' : error.message;
  return {
    code: ErrorCode.TLS_FILE_UNREADABLE,
    message: `cannot read the TLS ${what} "${path}" (${reason}): point ${option} at a readable PEM file`,
  };
}

/** Explains a certificate/key pair that Node's TLS could not load. */
export function describeTlsInvalid(error: Error, certPath: string, keyPath: string): StartFailure {
  return {
    code: ErrorCode.TLS_INVALID,
    message: `the TLS certificate "${certPath}" and key "${keyPath}" could not be used (${error.message}): both must be PEM, and the key must belong to the certificate`,
  };
}
