package main

// gateUnits are what `make regress` compares: metrics of the sink's work
// per tick that do not depend on how fast or how busy the machine is.
// Absolute latencies and CPU seconds vary by tens of percent between runs
// on a shared 2-core machine, so they would fail or pass the gate by luck.
var gateUnits = []string{"bytes/tick", "objects", "puts/Mtick", "achieved/target", "scan-B/query"}
