import { readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';

/**
 * Who this process is, for claims: a name for messages, and an identity
 * under which a pid can be checked. Two CI containers can share a hostname
 * and even a pid; a pid is only meaningful within one kernel boot and one
 * pid namespace, so on Linux the identity is the hostname plus the boot id
 * plus the pid namespace. Elsewhere (a developer's Mac) it is the hostname.
 */
export interface HostIdentity {
  readonly host: string;
  readonly hostId: string;
}

export function thisHost(): HostIdentity {
  const host = os.hostname();
  return { host, hostId: [host, readOr('/proc/sys/kernel/random/boot_id'), linkOr('/proc/self/ns/pid')].filter((s) => s !== '').join('/') };
}

function readOr(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

function linkOr(file: string): string {
  try {
    return readlinkSync(file);
  } catch {
    return '';
  }
}
