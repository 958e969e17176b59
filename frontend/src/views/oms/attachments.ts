/**
 * Exam attachments in the browser: the same checks as the server before a file is sent (PDF, PNG or JPEG decided
 * by the content's first bytes — never by the file name or the browser's guess — not empty, at most 20 MB), and
 * what a preview shows. The server checks again; its 415/413/422 messages are shown too.
 */
import { ATTACHMENT_MAX_BYTES, type AttachmentType } from '@/api/oms'

const SIGNATURES: readonly { type: AttachmentType; bytes: readonly number[] }[] = [
  { type: 'application/pdf', bytes: [0x25, 0x50, 0x44, 0x46, 0x2d] }, // %PDF-
  { type: 'image/png', bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: 'image/jpeg', bytes: [0xff, 0xd8, 0xff] },
]

/** How many leading bytes `sniffType` needs. */
export const SNIFF_BYTES = 8

/** The type the content's magic bytes say, or null for anything else. */
export function sniffType(head: Uint8Array): AttachmentType | null {
  for (const { type, bytes } of SIGNATURES) {
    if (head.length >= bytes.length && bytes.every((b, i) => head[i] === b)) return type
  }
  return null
}

export type FileProblem = 'empty' | 'too_large' | 'unsupported_type'

export type FileCheck = { ok: true; type: AttachmentType } | { ok: false; problem: FileProblem }

/** The size rules alone (no content needed). */
export function sizeProblem(size: number, max: number = ATTACHMENT_MAX_BYTES): FileProblem | null {
  if (size <= 0) return 'empty'
  if (size > max) return 'too_large'
  return null
}

async function headOf(file: Blob): Promise<Uint8Array> {
  const slice = file.slice(0, SNIFF_BYTES)
  if (typeof slice.arrayBuffer === 'function') return new Uint8Array(await slice.arrayBuffer())
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(new Uint8Array(reader.result as ArrayBuffer))
    reader.onerror = () => reject(reader.error)
    reader.readAsArrayBuffer(slice)
  })
}

/** Checks a chosen file: size first (cheap), then the first bytes. */
export async function checkFile(file: Blob, max: number = ATTACHMENT_MAX_BYTES): Promise<FileCheck> {
  const bySize = sizeProblem(file.size, max)
  if (bySize) return { ok: false, problem: bySize }
  const type = sniffType(await headOf(file))
  return type ? { ok: true, type } : { ok: false, problem: 'unsupported_type' }
}

/** How a preview shows a type: an <img>, or the browser's PDF viewer in an <iframe>. */
export function previewKind(contentType: string): 'image' | 'pdf' | 'none' {
  if (contentType === 'image/png' || contentType === 'image/jpeg') return 'image'
  if (contentType === 'application/pdf') return 'pdf'
  return 'none'
}

/** 1536 → "1.5 KB", 20971520 → "20.0 MB" (for showing sizes; bytes stay integers). */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return ''
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`
}

/** A file name the server will take in `?filename=`: trimmed, path parts dropped, at most 255 characters. */
export function uploadName(name: string): string {
  const base = name.split(/[\\/]/).pop()?.trim() ?? ''
  const chars = [...(base || 'attachment')]
  return chars.slice(0, 255).join('')
}
