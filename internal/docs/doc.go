// Package docs holds no code: its test checks that every reference to the specification (SPEC §n) and to a
// document in docs/ made anywhere in the repository resolves to a heading or a file that exists.
package docs
