// Package demo holds the demo data `bonusbot seed --demo` loads, embedded so the binary needs no files.
package demo

import _ "embed"

// Catalog is the reward catalogue of the MTS Bonus article (codes 22 and 23 are its USSD codes), in the
// format of `bonusbot import catalog`.
//
//go:embed catalog.csv
var Catalog []byte
