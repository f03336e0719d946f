//go:build !linux

package rietest

import (
	"errors"
	"syscall"
)

// The emulator and the process handling here are Linux only, as Lambda is.
const supported = false

var errUnsupported = errors.New("rietest: the Lambda emulator runs only on linux")

func sysProcAttr() *syscall.SysProcAttr { return nil }
func terminate(int)                     {}
func killGroup(int)                     {}
func children(int) []int                { return nil }
func alive(int) bool                    { return false }
