module github.com/tickbench/tickbench

go 1.26.0
