// OpenAI's file inputs (Chat Completions' `file` part, the Responses API's `input_file`) as Sluice translates them: a
// PDF whose bytes ride in the request as file_data. A file_id names a file OpenAI keeps and a file_url one it fetches;
// no other provider can read either, so those pass through to OpenAI-shaped providers only.
// Reference: https://platform.openai.com/docs/guides/pdf-files
import type { JsonObject } from '../../wire/json.js';

const PDF_DATA_URL = 'data:application/pdf;base64,';
/** "%PDF-", the first bytes of every PDF, in base64: file_data sent as bare base64 rather than a data: URL. */
const PDF_MAGIC_BASE64 = 'JVBERi0';

/** The base64 bytes of a PDF sent as file_data; null for anything else (another type of file, no file_data). */
export function pdfFileData(fileData: unknown): string | null {
  if (typeof fileData !== 'string') return null;
  if (fileData.startsWith(PDF_DATA_URL)) return fileData.slice(PDF_DATA_URL.length);
  return fileData.startsWith(PDF_MAGIC_BASE64) ? fileData : null;
}

/**
 * Why a file input has no translation, naming its field (`file_id`, `file_url` or `file_data`, beside the part's other
 * fields) and saying what does translate; null for a PDF in file_data.
 */
export function untranslatableFile(file: JsonObject): { field: string; what: string } | null {
  if (pdfFileData(file.file_data) !== null) return null;
  const field = typeof file.file_id === 'string' ? 'file_id' : typeof file.file_url === 'string' ? 'file_url' : 'file_data';
  const why =
    field === 'file_id'
      ? 'files by file_id are kept by OpenAI and not translated'
      : field === 'file_url'
        ? 'files by URL are not translated'
        : 'only PDF files are translated';
  return { field, what: `${why}; send the PDF itself as file_data ("data:application/pdf;base64,...").` };
}
