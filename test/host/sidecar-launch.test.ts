import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../protocol/constants.js';
import { launchSidecar } from '../../host/sidecar-launch.js';
import { nodeCommand, REPO_ROOT } from '../../host/sidecar-locator.js';

const script = (source: string) => ({ file: process.execPath, args: ['-e', source], kind: 'node' as const });

describe('launchSidecar', () => {
  it('resolves with the hello of a real sidecar, its process still running', async () => {
    const { child, hello } = await launchSidecar({ command: nodeCommand() });
    expect(hello.protocolVersion).toBe(PROTOCOL_VERSION);
    expect(hello.capabilities).toContain('rooms');
    expect(child.exitCode).toBeNull();
    child.stdin!.end();
    await new Promise((resolve) => child.once('close', resolve));
  });

  it('refuses a sidecar of another version, naming both', async () => {
    const fake = join(REPO_ROOT, 'godot-addon', 'tests', 'fake_sidecar_wrong_version.cjs');
    await expect(launchSidecar({ command: { file: process.execPath, args: [fake], kind: 'node' }, expectedSidecarVersion: '0.1.0' })).rejects.toThrow(
      'the sidecar is version 9.9.9, this host needs 0.1.0',
    );
  });

  it('says why when the process exits before hello', async () => {
    await expect(launchSidecar({ command: script('process.exit(3)') })).rejects.toThrow(/exited with code 3 before its hello/);
  });

  it('gives up after helloTimeoutMs', async () => {
    await expect(launchSidecar({ command: script('setTimeout(() => {}, 10000)'), helloTimeoutMs: 200 })).rejects.toThrow('sent no hello within 200 ms');
  });
});
