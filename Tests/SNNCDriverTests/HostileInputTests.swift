// Mutation-style end-to-end tests (issue "zero traps"): models and artefacts damaged in every
// field, and extreme flag values, through the commands users run. Each run must end in success
// or in exit 1/2 with an `error[…]` diagnostic — never a trap (a trap would kill this process and
// fail the suite), never a silent failure.
import Foundation
import SNNCDriver
import SNNCIR
import SNNCJSON
import Testing

/// Every path of a JSON document to a scalar or container, arrays cut to their first two
/// elements (tensors of thousands of numbers add nothing a second element does not).
private func paths(_ v: Any, _ prefix: [Any] = []) -> [[Any]] {
    var out: [[Any]] = prefix.isEmpty ? [] : [prefix]
    if let d = v as? [String: Any] {
        for k in d.keys.sorted() { out += paths(d[k]!, prefix + [k]) }
    } else if let a = v as? [Any] {
        for i in a.indices.prefix(2) { out += paths(a[i], prefix + [i]) }
    }
    return out
}

/// `doc` with the value at `path` replaced (nil: removed).
private func replacing(_ doc: Any, _ path: ArraySlice<Any>, with new: Any?) -> Any? {
    guard let key = path.first else { return new }
    if var d = doc as? [String: Any], let k = key as? String {
        d[k] = replacing(d[k] as Any, path.dropFirst(), with: new)
        return d
    }
    if var a = doc as? [Any], let i = key as? Int, a.indices.contains(i) {
        if let v = replacing(a[i], path.dropFirst(), with: new) { a[i] = v } else { a.remove(at: i) }
        return a
    }
    return doc
}

/// The values each field is replaced with: out of range, of the wrong type, absent.
private var hostileValues: [Any?] { [nil, -1, 0, 1e308, -1e308, 5e-324, Int64.max, "x", NSNull(), [Any](), [String: Any]()] }

private func assertDiagnosed(_ r: CommandResult, _ what: String) {
    if r.status != .success {
        #expect(r.stderr.contains("error["), "\(what): exit \(r.status.rawValue) without a diagnostic: \(r.stderr.prefix(300))")
    }
}

@Suite struct HostileInputTests {
    /// The IRIS model with every field damaged in every way, compiled for Loihi.
    @Test func everyDamagedModelFieldIsDiagnosed() throws {
        let dir = tempPath("hostile-model")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let src = repoRoot + "/Examples/iris"
        try FileManager.default.copyItem(atPath: src + "/model.safetensors", toPath: dir + "/model.safetensors")
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: src + "/model.json")))
        var runs = 0, refused = 0
        for p in paths(doc) {
            for v in hostileValues {
                guard let damaged = replacing(doc, p[...], with: v) else { continue }
                try JSONSerialization.data(withJSONObject: damaged).write(to: URL(fileURLWithPath: dir + "/model.json"))
                var o = Compile.Options(modelPath: dir + "/model.json")
                o.profile = "loihi"
                o.output = dir + "/out.snnc"
                let r = Compile.run(o)
                assertDiagnosed(r, "\(p) = \(String(describing: v))")
                runs += 1
                if r.status != .success { refused += 1 }
                try? FileManager.default.removeItem(atPath: dir + "/out.snnc")
            }
        }
        #expect(runs > 400)
        // Most damage is refused; some (a name, a comment, an unused default) is harmless.
        #expect(refused > runs / 2 && refused < runs)
    }

    /// A compiled IRIS artefact with every field of layers.json and cores.json damaged, emulated.
    @Test func everyDamagedArtefactFieldIsDiagnosed() throws {
        let dir = tempPath("hostile-artefact")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = Compile.Options(modelPath: repoRoot + "/Examples/iris/model.json")
        o.profile = "loihi"
        o.output = dir
        #expect(Compile.run(o).status == .success)
        var runs = 0, refused = 0
        for name in ["layers.json", "cores.json"] {
            let url = URL(fileURLWithPath: dir + "/" + name)
            let original = try Data(contentsOf: url)
            let doc = try JSONSerialization.jsonObject(with: original)
            for p in paths(doc) {
                for v in hostileValues {
                    guard let damaged = replacing(doc, p[...], with: v) else { continue }
                    try JSONSerialization.data(withJSONObject: damaged).write(to: url)
                    var e = Emulate.Options(directory: dir, dataPath: repoRoot + "/Examples/iris/test.csv")
                    e.limit = 2
                    e.durationMs = 20
                    e.progress = false
                    let r = Emulate.run(e)
                    assertDiagnosed(r, "\(name) \(p) = \(String(describing: v))")
                    runs += 1
                    if r.status != .success { refused += 1 }
                }
            }
            try original.write(to: url)
        }
        #expect(runs > 500)
        #expect(refused > 0)
    }

    /// Extreme flag values through the real binary: exit 0, 1 or 2, never a signal; a failure
    /// always says why.
    @Test func extremeFlagsNeverTrap() throws {
        let snnc = directoryOf(directoryOf(directoryOf(#filePath))) + "/.build/release/snnc"
        guard FileManager.default.isExecutableFile(atPath: snnc) else {
            Issue.record("build snnc first (swift build -c release): \(snnc)")
            return
        }
        let dir = tempPath("hostile-flags")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let iris = repoRoot + "/Examples/iris/model.json", data = repoRoot + "/Examples/iris/test.csv"
        var o = Compile.Options(modelPath: iris)
        o.profile = "loihi"
        o.output = dir + "/a.snnc"
        #expect(Compile.run(o).status == .success)
        let numbers = ["5e-324", "1e308", "-1e308", "nan", "inf", "-1", "0", "9223372036854775807", "99999999999999999999"]
        var cases: [[String]] = []
        for n in numbers {
            cases.append(["compile", iris, "--profile", "loihi", "-o", dir + "/b.snnc", "--theta0", n])
            cases.append(["simulate", iris, "--data", data, "--limit", "2", "--duration", n])
            cases.append(["simulate", iris, "--data", data, "--limit", n, "--duration", "20"])
            cases.append(["simulate", iris, "--data", data, "--limit", "2", "--duration", "20", "--theta0", n])
            cases.append(["emulate", dir + "/a.snnc", "--data", data, "--limit", "2", "--duration", "20", "--check", "--max-accuracy-drop", n])
            cases.append(["emulate", dir + "/a.snnc", "--data", data, "--limit", "2", "--duration", "20", "--threads", n])
            cases.append(["sweep", iris, "--data", data, "--limit", "2", "--duration", "20", "--theta0", n])
            cases.append(["transfer", "--theta0", n, "--steps", "3", "--duration", "100"])
        }
        cases.append(["simulate", iris, "--data", data, "--limit", "2", "--duration", "20", "--svg", dir])
        for args in cases {
            let (status, signaled, err) = try runProcess(snnc, args)
            #expect(!signaled, "\(args.joined(separator: " ")): killed by a signal")
            #expect([0, 1, 2].contains(status), "\(args.joined(separator: " ")): exit \(status)")
            if status == 1 { #expect(err.contains("error["), "\(args.joined(separator: " ")): \(err.prefix(300))") }
            if status == 2 { #expect(err.contains("Error") || err.contains("error"), "\(args.joined(separator: " ")): \(err.prefix(300))") }
        }
    }
}

/// Runs `path args`, returning (exit status, killed by a signal, stderr).
private func runProcess(_ path: String, _ args: [String]) throws -> (Int32, Bool, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let err = Pipe()
    p.standardError = err
    p.standardOutput = FileHandle.nullDevice
    try p.run()
    let data = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, p.terminationReason == .uncaughtSignal, String(decoding: data, as: UTF8.self))
}
