// Package hostile holds the hostile-input suite: every REST route of the
// OpenAPI document, fed what a careless or malicious client sends
// (over-long strings, NUL and control characters, wrong JSON types, unknown
// fields, bytes that are not UTF-8, a huge body, bad page tokens and ids),
// against the whole stack. Each answer must be a 2xx or a 4xx with a
// google.rpc.Status within a second, a refused create must write nothing,
// and a task must still be workable after the commands aimed at it.
package hostile
