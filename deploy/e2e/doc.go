// Package e2e holds the end-to-end tests: the whole stack (real Temporal
// dev server, every service as its own process, the gateway) driven over
// REST as the console drives it.
package e2e
