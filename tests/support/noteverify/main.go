// An off-the-shelf signed-note verifier: Go's golang.org/x/mod/sumdb/note
// (Debian's golang-golang-x-mod-dev), as an auditor's own tools would use
// it. Usage: noteverify FILE VERIFIER-KEY. Prints the note's text and exits
// 0 when a signature of the key verifies; prints why and exits 1 otherwise.
package main

import (
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/note"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: noteverify FILE VERIFIER-KEY")
		os.Exit(2)
	}
	message, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	verifier, err := note.NewVerifier(os.Args[2])
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	opened, err := note.Open(message, note.VerifierList(verifier))
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Print(opened.Text)
}
