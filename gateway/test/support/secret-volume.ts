import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A Kubernetes-style Secret volume: `<dir>/..<version>/NAME`, `..data` → the version, `NAME` → `..data/NAME`. */
export class SecretVolume {
  readonly dir = mkdtempSync(join(tmpdir(), 'secret-volume-'));
  private version = 0;

  constructor(files: Record<string, string>) {
    this.swap(files);
    for (const name of Object.keys(files)) symlinkSync(join('..data', name), join(this.dir, name));
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** What the kubelet does: a new version directory, then one atomic rename of the `..data` symlink. */
  swap(files: Record<string, string>): void {
    const version = `..v${++this.version}`;
    mkdirSync(join(this.dir, version));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(this.dir, version, name), text);
    symlinkSync(version, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
