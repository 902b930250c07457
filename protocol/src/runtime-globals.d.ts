/**
 * The only host APIs this package may use: the ones browsers and Node both
 * have. tsconfig.json sets `types: []` and no DOM lib, so anything else
 * (Buffer, process, document…) fails to compile here.
 */
declare function setTimeout(handler: () => void, ms?: number): unknown;
declare function clearTimeout(handle: unknown): void;
declare function setInterval(handler: () => void, ms?: number): unknown;
declare function clearInterval(handle: unknown): void;

declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}
