import { existsSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { binaryPath, BUNDLE_PATH, commandFor, platformDir, resolveSidecarCommand } from '../../host/sidecar-locator.js';

describe('resolveSidecarCommand', () => {
  it('names platform folders as the addon does', () => {
    expect(platformDir('linux', 'x64')).toBe('linux-x64');
    expect(platformDir('win32', 'x64')).toBe('windows-x64');
    expect(platformDir('darwin', 'arm64')).toBe('macos-arm64');
  });

  it('runs the bundle with node when GODOT_WEBSOCKET_SIDECAR=node', () => {
    expect(resolveSidecarCommand({ GODOT_WEBSOCKET_SIDECAR: 'node' })).toEqual({ file: process.execPath, args: [BUNDLE_PATH], kind: 'node' });
  });

  it('runs a script override with node and anything else directly, as sidecar_locator.gd does', () => {
    expect(resolveSidecarCommand({ GODOT_WEBSOCKET_SIDECAR: BUNDLE_PATH })).toEqual({ file: process.execPath, args: [BUNDLE_PATH], kind: 'node' });
    expect(commandFor('/opt/sidecar.js')).toEqual({ file: process.execPath, args: ['/opt/sidecar.js'], kind: 'node' });
    expect(commandFor('/opt/websocket-sidecar')).toEqual({ file: '/opt/websocket-sidecar', args: [], kind: 'binary' });
  });

  it('ignores the old WEBSOCKET_SIDECAR name', () => {
    expect(resolveSidecarCommand({ WEBSOCKET_SIDECAR: '/nowhere/sidecar' })).toEqual(resolveSidecarCommand({}));
  });

  it('refuses an override that does not exist, naming it', () => {
    expect(() => resolveSidecarCommand({ GODOT_WEBSOCKET_SIDECAR: '/nowhere/sidecar' })).toThrow('GODOT_WEBSOCKET_SIDECAR points at /nowhere/sidecar, which does not exist');
  });

  it('prefers a built binary that is not older than the bundle (the end-to-end tests then test what players get)', () => {
    const chosen = resolveSidecarCommand({});
    console.info(`end-to-end tests run the sidecar as: ${chosen.kind} ${chosen.file}`);
    const current = existsSync(binaryPath()) && statSync(binaryPath()).mtimeMs >= statSync(BUNDLE_PATH).mtimeMs;
    expect(chosen.kind).toBe(current ? 'binary' : 'node');
  });
});
