/**
 * The cleanup every attack test file shares: after each test, every client it opened
 * (`attack-clients.ts`) is destroyed and every sidecar it spawned (`attack-host.ts`) killed,
 * so no test inherits another's sockets or processes.
 */
import { afterEach } from 'vitest';
import { destroyAllClients } from './attack-clients.js';
import { killAllAttackHosts } from './attack-host.js';

/** Registers that cleanup; call it once at the top level of a test file. */
export function cleanUpAfterEachAttack(): void {
  afterEach(async () => {
    destroyAllClients();
    await killAllAttackHosts();
  });
}
