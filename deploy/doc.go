// Package deploy holds bonusbot's deployment files: the container image (Dockerfile), a local
// compose stack (compose.yaml, .env.example) and Kubernetes manifests (k8s/). Its test checks them
// against each other, against README.md's configuration table and commands, and against the real
// Kubernetes API types; deploy/demo is the demo data that `bonusbot seed --demo` embeds.
package deploy
