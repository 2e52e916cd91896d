module github.com/netconform/netconform

go 1.26.8
