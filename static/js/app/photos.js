// Photos from the phone's camera, made small on the phone (longest side ≤ 1600 px, JPEG), and kept
// in backup files as data: URLs.
export const MAX_SIDE = 1600;

export async function resizePhoto(file, maxSide = MAX_SIDE, quality = 0.85) {
  const bitmap = await createImageBitmap(file); // throws for anything that is not an image
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d").drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
  return { blob, width, height };
}

// A photo kept in a backup file as a data: URL, and read back without fetch(): the page's
// Content-Security-Policy does not allow fetching data: or blob: URLs.
export function blobToDataUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

export function dataUrlToBlob(url) {
  const match = /^data:([^;,]*)((?:;[^;,]*)*?)(;base64)?,(.*)$/s.exec(url || "");
  if (!match) throw new Error("not a data: URL");
  let bytes;
  if (match[3]) {
    const text = atob(match[4]);
    bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i += 1) bytes[i] = text.charCodeAt(i);
  } else {
    bytes = new TextEncoder().encode(decodeURIComponent(match[4]));
  }
  return new Blob([bytes], { type: match[1] || "application/octet-stream" });
}
