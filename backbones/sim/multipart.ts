// A small multipart/form-data reader for the sim server's /images/edits: enough for what OpenAI
// clients send (text fields and files), strict about structure so bad bodies get a clear 400.

export interface FormPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

export class MultipartError extends Error {
  override name = 'MultipartError';
}

/** The boundary from a Content-Type header, or an error saying what is wrong with the header. */
export function multipartBoundary(contentType: string | undefined): string {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) {
    throw new MultipartError(`content-type must be multipart/form-data, not ${contentType ? `"${contentType}"` : 'missing'}`);
  }
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw new MultipartError('content-type multipart/form-data has no boundary');
  return boundary;
}

/** A header parameter such as name="image" from a Content-Disposition line. */
function parameter(header: string, key: string): string | undefined {
  const match = new RegExp(`;\\s*${key}="((?:[^"\\\\]|\\\\.)*)"|;\\s*${key}=([^;\\s]+)`, 'i').exec(header);
  const raw = match?.[1] ?? match?.[2];
  return raw?.replace(/\\(.)/g, '$1');
}

export function parseMultipart(body: Buffer, boundary: string): FormPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: FormPart[] = [];
  let at = body.indexOf(delimiter);
  if (at === -1) throw new MultipartError('the body does not contain the boundary from content-type');
  for (;;) {
    let cursor = at + delimiter.length;
    if (body.subarray(cursor, cursor + 2).toString() === '--') return parts; // the closing delimiter
    if (body.subarray(cursor, cursor + 2).toString() !== '\r\n') {
      throw new MultipartError(`part ${parts.length + 1} does not start with a line break after the boundary`);
    }
    cursor += 2;
    const headerEnd = body.indexOf('\r\n\r\n', cursor);
    if (headerEnd === -1) throw new MultipartError(`part ${parts.length + 1} has no blank line after its headers`);
    const headers = new Map<string, string>();
    for (const line of body.subarray(cursor, headerEnd).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new MultipartError(`part ${parts.length + 1} has a malformed header line "${line}"`);
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    if (next === -1) throw new MultipartError(`part ${parts.length + 1} is not closed by a boundary`);
    const disposition = headers.get('content-disposition');
    const name = disposition ? parameter(disposition, 'name') : undefined;
    if (!disposition || !/^form-data/i.test(disposition) || name === undefined) {
      throw new MultipartError(`part ${parts.length + 1} has no Content-Disposition: form-data with a name`);
    }
    parts.push({
      name,
      filename: parameter(disposition, 'filename'),
      contentType: headers.get('content-type'),
      data: body.subarray(headerEnd + 4, next),
    });
    at = next + 2;
  }
}
