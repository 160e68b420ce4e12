// Imports of an existing customer base from a CSV file: the check (a dry
// run that writes nothing but its report), the run that writes the rows
// without problems, and each import's problems. Plain functions: only the
// import screen reads them. The file goes as the body itself, not a form
// (api/raw); the rest through the typed client.

import { api, ok, type Import, type ImportProblem, type ImportState } from '@/api/client'
import { defaultFetch, postFile, type Fetch } from '@/api/raw'

/**
 * Checks a file: sends it as it is (text/csv, whatever type the browser
 * gives it: Excel on Windows calls CSV "application/vnd.ms-excel") and
 * gives the import the check made, CHECKED with its counts.
 */
export async function checkImport(file: File, fetchImpl: Fetch = defaultFetch): Promise<Import> {
  return postFile<Import>('/api/v1/imports', { fileName: file.name }, file, 'text/csv', fetchImpl)
}

export interface ImportPage {
  imports: Import[]
  next: string
}

/** A page of imports, newest first. */
export async function listImports(pageToken = ''): Promise<ImportPage> {
  const res = await ok(api.GET('/api/v1/imports', { params: { query: { pageSize: 20, pageToken: pageToken || undefined } } }))
  return { imports: res.imports ?? [], next: res.nextPageToken ?? '' }
}

export async function getImport(id: string): Promise<Import> {
  return ok(api.GET('/api/v1/imports/{id}', { params: { path: { id } } }))
}

export interface ProblemPage {
  problems: ImportProblem[]
  next: string
}

/** A page of an import's problems, in file order. */
export async function listImportProblems(importId: string, pageToken = ''): Promise<ProblemPage> {
  const res = await ok(
    api.GET('/api/v1/imports/{import_id}/problems', {
      params: { path: { import_id: importId }, query: { pageSize: 100, pageToken: pageToken || undefined } },
    }),
  )
  return { problems: res.problems ?? [], next: res.nextPageToken ?? '' }
}

/**
 * Starts a checked import, or resumes a failed or stopped one from the row
 * it stopped at. The answer may still read as before: the run's workflow
 * marks it RUNNING a moment later.
 */
export async function runImport(id: string): Promise<Import> {
  return ok(api.POST('/api/v1/imports/{id}:run', { params: { path: { id } }, body: {} }))
}

/** Asks a running import to stop after the batch it is writing. */
export async function cancelImport(id: string): Promise<Import> {
  return ok(api.POST('/api/v1/imports/{id}:cancel', { params: { path: { id } }, body: {} }))
}

/** The last part of the state, as the messages name it ("IMPORT_STATE_DONE" → "done"). */
export function importStateKey(s: ImportState | undefined): string {
  const key = (s ?? '').replace(/^IMPORT_STATE_/, '').toLowerCase()
  return key || 'unspecified'
}

/** The import's figures, a missing one (zero, left out of the JSON) as 0. */
export function importFigures(i: Import) {
  const total = i.totalRows ?? 0
  const problems = i.problemRows ?? 0
  return {
    total,
    problems,
    /** Rows a run writes: those without problems. */
    good: Math.max(0, total - problems),
    customers: i.customers ?? 0,
    asIs: i.contractsAsIs ?? 0,
    toConnect: i.contractsToConnect ?? 0,
    done: i.rowsDone ?? 0,
    customersCreated: i.customersCreated ?? 0,
    contractsCreated: i.contractsCreated ?? 0,
    /** How far a run has got, 0–100. */
    percent: total > 0 ? Math.min(100, Math.floor(((i.rowsDone ?? 0) * 100) / total)) : 0,
  }
}

/** How often a running import is read again. */
export const IMPORT_POLL_MS = 1000

/** How many reads a run just asked for may take to show (RUNNING, or ended) before the screen stops waiting. */
export const IMPORT_START_POLLS = 30
