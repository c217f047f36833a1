// Package benchdata makes the items the store benchmarks put and read, so
// that every implementation is measured on the same data.
package benchdata
