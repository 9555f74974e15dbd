// Package faults proves what bonusbot serve does when its database fails: it runs the real binary
// against a Postgres cluster of its own (initdb and pg_ctl in a temporary directory, on a spare port;
// never the shared server) and stops, kills and freezes that cluster under load. It has only tests;
// see faults_test.go for the scenarios (issue 8, items 1, 2, 3, 6 and 11).
package faults
