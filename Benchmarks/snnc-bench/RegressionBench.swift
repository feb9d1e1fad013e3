// snnc-bench regression --record FILE | --check FILE [--images N] [--only EXAMPLE]
//
// The emulator's regression record (SNNCDriver/EmulatorRegression.swift): every example on every
// profile, compiled and emulated for 500 ms per sample. --record writes it (from a release that is
// known good); --check recomputes it and prints every difference (exit 1 if any).
import Foundation
import SNNCDriver
import SNNCIR
import SNNCJSON

func regressionBenchmark(_ args: [String]) {
    func value(_ flag: String) -> String? { args.firstIndex(of: flag).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    let only = value("--only")
    let images = value("--images").flatMap(Int.init)
    let cases = EmulatorRegression.cases(root: root).filter { only == nil || $0.example == only }
    let scratch = NSTemporaryDirectory() + "snnc-regression-\(getpid())"
    if let path = value("--record") {
        var entries: [JSONOutput] = []
        for c in cases {
            let t0 = now()
            entries.append(EmulatorRegression.run(c, limit: images, scratch: scratch))
            FileHandle.standardError.write(Data("regression: \(c) in \(String(format: "%.1f", now() - t0)) s\n".utf8))
        }
        let doc = JSONOutput.object([("format", .string("snnc-emulator-regression")), ("duration_ms", .int(EmulatorRegression.durationMs)), ("cases", .array(entries))])
        do { try writeFileAtomically(path, doc.serialized(pretty: false) + "\n") } catch {
            print("regression: \(error)")
            exit(1)
        }
        print("regression: \(entries.count) cases recorded in \(path)")
    } else if let path = value("--check") {
        guard let bytes = try? readWholeFile(path, limit: 1 << 28), let doc = try? JSONDocument.parse(bytes) else {
            print("regression: cannot read \(path)")
            exit(1)
        }
        let recorded = doc.root["cases"]?.elements ?? []
        var diffs: [String] = [], checked = 0
        for c in cases {
            guard let r = recorded.first(where: { $0["example"]?.string == c.example && $0["profile"]?.string == c.profile }) else {
                diffs.append("\(c): not recorded")
                continue
            }
            let t0 = now()
            let fresh = EmulatorRegression.run(c, limit: images, scratch: scratch)
            let d = EmulatorRegression.differences(recorded: r, fresh: fresh)
            diffs += d
            checked += 1
            FileHandle.standardError.write(Data("regression: \(c): \(d.isEmpty ? "identical" : "\(d.count) differences") (\(String(format: "%.1f", now() - t0)) s)\n".utf8))
        }
        for d in diffs { print(d) }
        print("regression: \(checked) cases checked, \(diffs.count) differences")
        exit(diffs.isEmpty ? 0 : 1)
    } else {
        print("usage: snnc-bench regression --record FILE | --check FILE [--images N] [--only EXAMPLE]")
        exit(2)
    }
}
