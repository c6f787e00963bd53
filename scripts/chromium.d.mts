// Types of chromium.mjs, for the TypeScript that imports it (vitest.browser.config.ts, the page test).
export declare const DEFAULT_CHROMIUM: string;
export declare function chromiumPath(): string;
export declare function chromiumPresent(): boolean;
export declare const CHROMIUM_ARGS: string[];
