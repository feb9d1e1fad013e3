// `snnc-bench compile`: compiles every example and the untrained compile-scale graphs
// (vgg-cifar10, resnet18-imagenet, written by `snnc synthesize`) on loihi and generic, each in
// a fresh `snnc compile --timings` child process, and prints seconds and peak RSS per pass and
// in total, cores against the lower bound and placement cost against naive placement.
import Foundation

func compileBenchmark(_ a: [String]) {
    let exe = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("snnc").path
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    let tmp = NSTemporaryDirectory() + "snnc-bench-compile-\(getpid())"
    try? FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: tmp) }
    func run(_ args: [String]) -> (Int32, String, String, Double) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let t0 = now()
        try! p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self), now() - t0)
    }
    for name in ["vgg-cifar10", "resnet18-imagenet"] {
        _ = run(["synthesize", name, "-o", tmp + "/" + name])
    }
    var models = ["iris", "sonar", "mnist", "fashion-mnist"].map { ($0, root + "/Examples/\($0)/model.json") }
    models += [("vgg-cifar10 (untrained)", tmp + "/vgg-cifar10/model.json"), ("resnet18-imagenet (untrained)", tmp + "/resnet18-imagenet/model.json")]
    var cases: [(String, String, String)] = []
    for (label, path) in models { for prof in ["loihi", "generic"] { cases.append((label, path, prof)) } }
    
    let json = a.contains("--json")
    var rows: [String] = []
    if !json { print("model                          profile          status  wall s  peak RSS   cores  bound  placement/naive") }
    for (label, path, prof) in cases {
        let (status, out, err, wall) = run(["compile", path, "--profile", prof, "--timings", "-o", tmp + "/out"])
        let rss = err.split(separator: "\n").compactMap { line -> Double? in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 4, f[f.count - 1] == "MiB" || f[f.count - 1] == "GiB" else { return nil }
            return (Double(f[f.count - 2]) ?? 0) * (f[f.count - 1] == "GiB" ? 1024 : 1)
        }.max() ?? 0
        let coresLine = out.split(separator: "\n").first { $0.hasPrefix("cores:") }.map(String.init) ?? ""
        let placeLine = out.split(separator: "\n").first { $0.hasPrefix("placement:") }.map(String.init) ?? ""
        let cores = coresLine.split(separator: " ").dropFirst().first.map(String.init) ?? "—"
        let bound = coresLine.components(separatedBy: "lower bound ").dropFirst().first?.split(separator: ",").first.map(String.init) ?? "—"
        let ratio = placeLine.contains("×)") ? placeLine.components(separatedBy: "×)")[0].components(separatedBy: "(").last ?? "—" : "—"
        let profName = prof
        if json {
            // Per-pass rows of the `--timings` table: "name  seconds  rss MiB|GiB".
            let passes = err.split(separator: "\n").compactMap { line -> String? in
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                guard f.count == 4, let sec = Double(f[1]), let m = Double(f[2]), f[3] == "MiB" || f[3] == "GiB" else { return nil }
                return String(format: "{\"pass\": \"%@\", \"seconds\": %.4f, \"peak_rss_mib\": %.1f}", String(f[0]), sec, m * (f[3] == "GiB" ? 1024 : 1))
            }
            rows.append(String(format: "    {\"model\": \"%@\", \"profile\": \"%@\", \"status\": \"%@\", \"seconds\": %.3f, \"peak_rss_mib\": %.1f, \"cores\": %@, \"lower_bound\": %@,\n     \"passes\": [",
                               label, prof, status == 0 ? "ok" : "refused", wall, rss, Int(cores) != nil ? cores : "null", Int(bound) != nil ? bound : "null")
                        + passes.joined(separator: ", ") + "]}")
            continue
        }
        print(label.padding(toLength: 31, withPad: " ", startingAt: 0) + profName.padding(toLength: 17, withPad: " ", startingAt: 0)
              + (status == 0 ? "ok     " : "refused").padding(toLength: 8, withPad: " ", startingAt: 0)
              + String(format: "%6.2f  %7.1f MiB  %5@  %5@  %@", wall, rss, cores, bound, ratio))
        if status != 0, let first = err.split(separator: "\n").first(where: { $0.contains("error[") }) {
            print("    " + first.prefix(220))
        }
        if a.contains("--passes") {
            for line in err.split(separator: "\n") where line.contains(" MiB") || line.hasPrefix("pass") { print("    " + line) }
        }
    }
    if json { print("{\n  \"benchmark\": \"compile\",\n  \"runs\": [\n" + rows.joined(separator: ",\n") + "\n  ]\n}") }
}
