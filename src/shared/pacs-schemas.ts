/** Schemas of the PACS room's contract entries (./contract-pacs.ts) and its CLI's --json output. */
import { z } from 'zod';
import { importResultSchema } from './dataset-schemas';

/** A connection's name: also a file name under `<project>/.secrets/`, so a safe one. */
export const pacsNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a name of letters, digits, _ . and - (at most 64)');

export const pacsAuthSchema = z.enum(['none', 'basic', 'bearer']);
export type PacsAuth = z.infer<typeof pacsAuthSchema>;

const aeTitleSchema = z
  .string()
  .regex(/^[\x20-\x7e]{1,16}$/, 'an AE title of 1 to 16 printable characters')
  .refine((value) => value.trim() !== '' && !value.includes('\\'), 'not a valid AE title');
const portSchema = z.number().int().min(1).max(65535);

/** Changes to the store SCP's allow list of calling AE titles (none: just read it). */
export const pacsAllowInputSchema = z.object({
  add: z.array(aeTitleSchema).optional(),
  remove: z.array(aeTitleSchema).optional(),
});
export type PacsAllowInput = z.input<typeof pacsAllowInputSchema>;

export const pacsAllowResultSchema = z.object({
  /** The allow list as it now is (the project's DIMSE connections' AE titles are allowed too). */
  allowed: z.array(z.string()),
});
export type PacsAllowResult = z.infer<typeof pacsAllowResultSchema>;

/** What a new connection needs. `secret` is the password (basic) or token (bearer). */
export const pacsAddInputSchema = z.discriminatedUnion('kind', [
  z.object({
    name: pacsNameSchema,
    kind: z.literal('dicomweb'),
    url: z
      .string()
      .url()
      .refine((value) => /^https?:\/\//i.test(value), 'an http:// or https:// URL'),
    auth: pacsAuthSchema.default('none'),
    username: z.string().min(1).max(256).optional(),
    secret: z.string().min(1).max(8192).optional(),
    /** A PEM file of the CA that signed the server's certificate (else the system's CAs). */
    caFile: z.string().min(1).optional(),
  }),
  z.object({
    name: pacsNameSchema,
    kind: z.literal('dimse'),
    host: z.string().min(1).max(253),
    port: portSchema,
    aet: aeTitleSchema,
    ourAet: aeTitleSchema,
    ourPort: portSchema,
  }),
]);
export type PacsAddInput = z.input<typeof pacsAddInputSchema>;

/** A stored connection as anyone may see it: never its secret. */
export const pacsConnectionSchema = z.object({
  name: pacsNameSchema,
  kind: z.enum(['dicomweb', 'dimse']),
  url: z.string().nullable(),
  host: z.string().nullable(),
  port: z.number().int().nullable(),
  aet: z.string().nullable(),
  ourAet: z.string().nullable(),
  ourPort: z.number().int().nullable(),
  auth: pacsAuthSchema,
  username: z.string().nullable(),
  caFile: z.string().nullable(),
  /** Whether a password or token is kept for it in the secret store. */
  hasSecret: z.boolean(),
  createdAt: z.string(),
});
export type PacsConnection = z.infer<typeof pacsConnectionSchema>;

export const pacsEchoResultSchema = z.object({
  name: z.string(),
  ok: z.boolean(),
  checks: z.array(z.object({ what: z.string(), ok: z.boolean(), message: z.string() })),
});
export type PacsEchoResult = z.infer<typeof pacsEchoResultSchema>;

/** DICOM date YYYYMMDD or ISO YYYY-MM-DD. */
const dateSchema = z
  .string()
  .regex(/^\d{4}-?\d{2}-?\d{2}$/, 'a date as YYYY-MM-DD')
  .transform((value) => value.replaceAll('-', ''));

export const pacsSearchInputSchema = z.object({
  name: pacsNameSchema,
  patientId: z.string().min(1).max(64).optional(),
  /** DICOM wildcards (* and ?) allowed. */
  patientName: z.string().min(1).max(64).optional(),
  studyDateFrom: dateSchema.optional(),
  studyDateTo: dateSchema.optional(),
  modality: z.string().min(1).max(16).optional(),
  accessionNumber: z.string().min(1).max(16).optional(),
  bodyPart: z.string().min(1).max(16).optional(),
  offset: z.number().int().nonnegative().default(0),
  limit: z.number().int().min(1).max(500).default(50),
});
export type PacsSearchInput = z.input<typeof pacsSearchInputSchema>;

export const pacsSeriesSchema = z.object({
  seriesInstanceUid: z.string(),
  modality: z.string(),
  bodyPart: z.string(),
  description: z.string(),
  seriesNumber: z.number().nullable(),
  instances: z.number().int().nonnegative().nullable(),
});
export type PacsSeries = z.infer<typeof pacsSeriesSchema>;

export const pacsStudySchema = z.object({
  studyInstanceUid: z.string(),
  patientId: z.string(),
  patientName: z.string(),
  studyDate: z.string(),
  accessionNumber: z.string(),
  description: z.string(),
  modalities: z.array(z.string()),
  instances: z.number().int().nonnegative().nullable(),
  series: z.array(pacsSeriesSchema),
});
export type PacsStudy = z.infer<typeof pacsStudySchema>;

export const pacsSearchResultSchema = z.object({
  studies: z.array(pacsStudySchema),
  offset: z.number().int().nonnegative(),
  limit: z.number().int().positive(),
  /** The server has more studies past this page (ask again with offset + limit). */
  more: z.boolean(),
});
export type PacsSearchResult = z.infer<typeof pacsSearchResultSchema>;

const dicomUidSchema = z
  .string()
  .regex(/^[0-9]+(\.[0-9]+)*$/, 'a DICOM UID')
  .max(64);

export const pacsRetrieveInputSchema = z.object({
  name: pacsNameSchema,
  studyInstanceUid: dicomUidSchema,
  seriesInstanceUid: dicomUidSchema.optional(),
  /** DIMSE connections: C-GET (default, no connection back to us) or C-MOVE to our store SCP. */
  method: z.enum(['c-get', 'c-move']).optional(),
});
export type PacsRetrieveInput = z.input<typeof pacsRetrieveInputSchema>;

export const pacsRetrieveResultSchema = z.object({
  connection: z.string(),
  studyInstanceUid: z.string(),
  /** Instances the server listed. */
  listed: z.number().int().nonnegative(),
  fetched: z.number().int().nonnegative(),
  /** Already in the project (same SOP Instance UID) or fetched by an earlier run: not fetched again. */
  alreadyHeld: z.number().int().nonnegative(),
  failed: z.array(z.object({ sopInstanceUid: z.string(), reason: z.string() })),
  /** The folder the instances were written to (inside the project), imported as a dataset. */
  folder: z.string(),
  import: importResultSchema.nullable(),
});
export type PacsRetrieveResult = z.infer<typeof pacsRetrieveResultSchema>;

export const pacsSendSourceSchema = z.enum(['ground-truth', 'label', 'predicted']);

export const pacsSendInputSchema = z.object({
  name: pacsNameSchema,
  /** ground-truth: the imported mask; label: the label in force (correction, else ground truth). */
  source: pacsSendSourceSchema,
  /** predicted: the model version (default: the active model). */
  model: z.string().optional(),
  /** Only these images (default: every DICOM image with a mask of the source). */
  imageIds: z.array(z.number().int().positive()).optional(),
});
export type PacsSendInput = z.input<typeof pacsSendInputSchema>;

export const pacsSendResultSchema = z.object({
  connection: z.string(),
  instances: z.array(
    z.object({
      imageId: z.number().int(),
      image: z.string(),
      status: z.enum(['stored', 'warning', 'failed', 'skipped']),
      /** The SEG's SOP Instance UID (the same for the same revision, so a resend replaces). */
      sopInstanceUid: z.string().nullable(),
      referencedSopInstanceUid: z.string().nullable(),
      message: z.string(),
    }),
  ),
  stored: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
});
export type PacsSendResult = z.infer<typeof pacsSendResultSchema>;
