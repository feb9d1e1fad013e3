import Foundation
import SNNCIR

/// The repository root, found from this file's path.
let repoRoot: String = {
    var dir = directoryOf(#filePath)  // Tests/SNNCIRTests
    dir = directoryOf(dir)  // Tests
    return directoryOf(dir)
}()

/// A fresh temporary directory for one test.
func makeTempDir() -> String {
    let path = NSTemporaryDirectory() + "snnc-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

let asnDefaults = #""defaults": {"asn": {"tau_gamma": 15, "tau_eta": 50, "tau_beta": 50, "tau_phi": 2.5, "theta0": 0.1, "m_f": 0.1, "h": "normalize"}, "readout": {"tau_phi": 50}}"#

/// Loads model JSON text from a temp dir (so relative weights files resolve there).
func loadText(_ text: String, dir: String? = nil) -> LoadResult {
    let d = dir ?? makeTempDir()
    let path = d + "/model.json"
    try! writeFileAtomically(path, text)
    return ModelLoader.load(path: path, displayName: "model.json")
}
