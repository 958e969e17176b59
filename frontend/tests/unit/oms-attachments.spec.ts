/**
 * Exam attachments in the browser (src/views/oms/attachments.ts and the upload/download calls of api/oms.ts): the
 * type decided by magic bytes, the 20 MB limit, the raw body upload, and the download through `http` as a Blob
 * whose error envelopes are still read.
 */
import MockAdapter from 'axios-mock-adapter'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { http } from '@/api/http'
import * as oms from '@/api/oms'
import { checkFile, formatSize, previewKind, sizeProblem, sniffType, uploadName } from '@/views/oms/attachments'

import { envelope } from './helpers'

const PDF = new TextEncoder().encode('%PDF-1.4\n1 0 obj\n')
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46])

describe('type by content', () => {
  it('recognises PDF, PNG and JPEG by their first bytes', () => {
    expect(sniffType(PDF)).toBe('application/pdf')
    expect(sniffType(PNG)).toBe('image/png')
    expect(sniffType(JPEG)).toBe('image/jpeg')
  })

  it('refuses anything else, however it is named', () => {
    expect(sniffType(new TextEncoder().encode('%PDF'))).toBeNull() // too short: "%PDF-" is the signature
    expect(sniffType(new TextEncoder().encode('GIF89a'))).toBeNull()
    expect(sniffType(new TextEncoder().encode('<html>'))).toBeNull()
    expect(sniffType(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).toBeNull() // a truncated PNG signature
    expect(sniffType(new Uint8Array([]))).toBeNull()
  })

  it('checks a chosen file: empty, too large, wrong content, or fine', async () => {
    expect(await checkFile(new File([PDF], 'report.pdf'))).toEqual({ ok: true, type: 'application/pdf' })
    // the browser's guess does not matter: a PNG named .pdf with a PDF type is a PNG
    expect(await checkFile(new File([PNG], 'scan.pdf', { type: 'application/pdf' }))).toEqual({ ok: true, type: 'image/png' })
    expect(await checkFile(new File(['hello'], 'x.jpg', { type: 'image/jpeg' })))
      .toEqual({ ok: false, problem: 'unsupported_type' })
    expect(await checkFile(new File([], 'empty.pdf'))).toEqual({ ok: false, problem: 'empty' })
    expect(await checkFile(new File([PDF, new Uint8Array(100)], 'big.pdf'), 64)).toEqual({ ok: false, problem: 'too_large' })
  })

  it('allows exactly 20 MB and not a byte more', () => {
    expect(oms.ATTACHMENT_MAX_BYTES).toBe(20 * 1024 * 1024)
    expect(sizeProblem(20 * 1024 * 1024)).toBeNull()
    expect(sizeProblem(20 * 1024 * 1024 + 1)).toBe('too_large')
    expect(sizeProblem(0)).toBe('empty')
  })

  it('previews images inline and PDFs in a frame; shows sizes; cleans names', () => {
    expect(previewKind('image/png')).toBe('image')
    expect(previewKind('image/jpeg')).toBe('image')
    expect(previewKind('application/pdf')).toBe('pdf')
    expect(previewKind('text/html')).toBe('none')
    expect(formatSize(512)).toBe('512 B')
    expect(formatSize(1536)).toBe('1.5 KB')
    expect(formatSize(20 * 1024 * 1024)).toBe('20.0 MB')
    expect(uploadName('C:\\scans\\胸片 1.png')).toBe('胸片 1.png')
    expect(uploadName('  ')).toBe('attachment')
    expect([...uploadName('长'.repeat(300))].length).toBe(255)
  })
})

describe('upload and download', () => {
  let mock: MockAdapter
  beforeEach(() => {
    mock = new MockAdapter(http)
  })
  afterEach(() => mock.restore())

  it('uploads the raw file as the body, named by ?filename=', async () => {
    const file = new File([PDF], 'report.pdf', { type: 'application/pdf' })
    mock.onPost('/api/outpatient/exams/15/attachments').reply((config) => {
      expect(config.params).toEqual({ filename: '检查报告.pdf' })
      expect(config.data).toBe(file)
      expect(String(config.headers?.['Content-Type'])).toBe('application/pdf')
      return [201, { id: 4, filename: '检查报告.pdf', content_type: 'application/pdf', size: PDF.length }]
    })
    await expect(oms.uploadAttachment(15, file, '检查报告.pdf')).resolves.toMatchObject({ id: 4 })
  })

  it('passes the server\'s 415 and 413 through as coded errors', async () => {
    mock.onPost('/api/outpatient/exams/15/attachments').replyOnce(415, envelope('attachment.unsupported_type'))
      .onPost('/api/outpatient/exams/15/attachments').replyOnce(413, envelope('attachment.too_large'))
    const file = new File([PDF], 'x.pdf')
    await expect(oms.uploadAttachment(15, file, 'x.pdf')).rejects.toMatchObject({ status: 415, code: 'attachment.unsupported_type' })
    await expect(oms.uploadAttachment(15, file, 'x.pdf')).rejects.toMatchObject({ status: 413, code: 'attachment.too_large' })
  })

  it('downloads through http with the token, as a Blob; an error body (a Blob too) is read as the envelope', async () => {
    mock.onGet('/api/outpatient/attachments/4').replyOnce(200, new Blob([PDF], { type: 'application/pdf' }))
    const blob = await oms.fetchAttachment(4)
    expect(blob).toBeInstanceOf(Blob)
    expect(blob.size).toBe(PDF.length)
    mock.onGet('/api/outpatient/attachments/5').replyOnce(404,
      new Blob([JSON.stringify(envelope('attachment.not_found'))], { type: 'application/json' }))
    await expect(oms.fetchAttachment(5)).rejects.toMatchObject({ status: 404, code: 'attachment.not_found' })
    mock.onGet('/api/outpatient/attachments/6').replyOnce(502, new Blob(['<html>bad gateway</html>']))
    await expect(oms.fetchAttachment(6)).rejects.toMatchObject({ status: 502, code: 'http.no_envelope' })
  })
})
