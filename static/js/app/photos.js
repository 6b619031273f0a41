// Photos from the phone's camera, made small on the phone (longest side ≤ 1600 px, JPEG).
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
