// Package demo holds the demo data `bonusbot seed --demo` loads, embedded so the binary needs no files.
package demo

import _ "embed"

// Catalog is the reward catalogue of the MTS Bonus article (codes 22 and 23 are its USSD codes), in the
// format of `bonusbot import catalog`.
//
//go:embed catalog.csv
var Catalog []byte

// PromoCodes are a pool of partner promo codes for the demo's coded reward (61, the Eldorado
// discount), in the format of `bonusbot import promocodes`.
//
//go:embed promocodes.csv
var PromoCodes []byte
