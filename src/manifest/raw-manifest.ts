import type { AssetVariant } from './manifest.js';

/**
 * The manifest's data exactly as `schemas/videos.schema.json` admits it:
 * shapes are checked, meaning is not (references, files, capabilities are
 * checked afterwards by semantic-checks.ts). Keep in sync with the schema.
 */
export type RawSource = string | { readonly file: string };

/** A local path, an image URL (optionally pinned by the sha256 of its content), or an uploaded file's id. */
export type RawInputReference = string | { readonly image_url: string; readonly sha256?: string } | { readonly file_id: string };

export interface RawVideo {
  readonly prompt: string;
  readonly model?: string;
  readonly size?: string;
  readonly seconds?: number;
  readonly input_reference?: RawInputReference;
  readonly assets?: readonly AssetVariant[];
  readonly characters?: readonly string[];
  readonly remix?: string;
  readonly extend?: RawSource;
  readonly edit?: RawSource;
}

export interface RawDefaults {
  readonly model?: string;
  readonly size?: string;
  readonly seconds?: number;
  readonly assets?: readonly AssetVariant[];
}

export interface RawProvider {
  readonly baseURL?: string;
  readonly apiKeyEnv?: string;
  readonly apiKeyHeader?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  readonly capabilities?: {
    readonly models?: Readonly<Record<string, { readonly sizes?: readonly string[]; readonly seconds?: readonly number[] }>>;
    readonly extension?: {
      readonly seconds?: readonly number[];
      readonly maxSecondsEach?: number;
      readonly minSecondsEach?: number;
      readonly maxCount?: number;
      readonly maxTotalSeconds?: number;
    };
    readonly maxCharactersPerVideo?: number;
  };
}

export interface RawRemote {
  readonly url: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly pathStyle?: boolean;
}

export interface RawManifest {
  readonly version: 1;
  readonly defaults?: RawDefaults;
  readonly outDir?: string;
  readonly concurrency?: number;
  readonly retryFailed?: boolean;
  readonly provider?: RawProvider;
  readonly remote?: string | RawRemote;
  /** USD per second by model and size, over the shipped price table. */
  readonly pricing?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly characters?: Readonly<Record<string, { readonly video: string }>>;
  readonly videos: Readonly<Record<string, RawVideo>>;
}
