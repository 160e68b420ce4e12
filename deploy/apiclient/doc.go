// Package apiclient is a Go client of the REST API generated from the
// gateway's OpenAPI document by a maintained generator (oapi-codegen), as an
// integrator would make one. Its test drives a story against a running
// stack, so a change to the REST surface that breaks generated clients
// fails the build.
package apiclient
