module profefe.test/gotarget

go 1.19
