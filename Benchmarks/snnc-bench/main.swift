// snnc-bench: performance figures, printed (never asserted in tests).
//
//   swift run -c release snnc-bench load [--keep DIR]
//
//   swift run -c release snnc-bench simulate [--example E | --model M --data D] [--images N] [--duration MS] [--json]
//
//   swift run -c release snnc-bench compile [--passes] [--json]   (Benchmarks/snnc-bench/CompileBench.swift)
//   swift run -c release snnc-bench emulate [--example E] [--profile P] [--images N] [--duration MS] [--json]   (EmulateBench.swift)
//   swift run -c release snnc-bench regression --record FILE | --check FILE [--images N] [--only EX]   (RegressionBench.swift)
//
// `simulate` runs the float reference on the largest example network (default: the paper's
// MNIST architecture with synthetic weights and synthetic images, or --model/--data) with 1 and
// then 2 threads and prints synaptic events/s per thread, images/s and the scaling.
//
// `load` writes a ResNet-18-shaped model (ImageNet input, 11.7 M float32 parameters in
// safetensors) and a 1 M-number inline-JSON model, then loads and validates each in a fresh
// child process and prints seconds and peak RSS (VmHWM) of that child.
import Foundation
import SNNCDriver
import SNNCIR
import SNNCReference

func peakRSSBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kb * 1024
    }
    return 0
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

BLAS.useFastKernels()
let args = CommandLine.arguments
if args.count >= 3 && args[1] == "measure-load" {
    // Child: load one model, print "seconds peak_rss tensor_bytes nodes".
    let t0 = now()
    let r = ModelLoader.load(path: args[2])
    let dt = now() - t0
    guard let m = r.model else {
        for d in r.diagnostics { FileHandle.standardError.write(Data((d.description + "\n").utf8)) }
        exit(1)
    }
    print(dt, peakRSSBytes(), m.tensorBytes, m.nodes.count)
    exit(0)
}

if args.count >= 2 && args[1] == "regression" {
    regressionBenchmark(Array(args.dropFirst(2)))
    exit(0)
}
if args.count >= 2 && args[1] == "emulate" {
    emulateBenchmark(Array(args.dropFirst(2)))
    exit(0)
}
if args.count >= 2 && args[1] == "compile" {
    compileBenchmark(Array(args.dropFirst(2)))
    exit(0)
}
if args.count >= 2 && args[1] == "simulate" {
    simulateBenchmark(Array(args.dropFirst(2)))
    exit(0)
}
guard args.count >= 2, args[1] == "load" else {
    print("usage: snnc-bench load [--keep DIR] | simulate [--example E | --model M --data D] [--images N] [--duration MS] [--json] | compile [--passes] [--json] | emulate [--example E] [--profile P] [--images N] [--duration MS] [--json] | regression --record F | --check F")
    exit(2)
}
var dir = NSTemporaryDirectory() + "snnc-bench-\(getpid())"
if let i = args.firstIndex(of: "--keep"), i + 1 < args.count { dir = args[i + 1] }
try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)

func measure(_ label: String, _ path: String, target: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    p.arguments = ["measure-load", path]
    let out = Pipe()
    p.standardOutput = out
    try! p.run()
    p.waitUntilExit()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let f = text.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
    guard p.terminationStatus == 0, f.count == 4, let secs = Double(f[0]), let rss = Int(f[1]), let tb = Int(f[2]) else {
        print("\(label): load failed (exit \(p.terminationStatus))")
        return
    }
    let fileBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    print(String(format: "%@: %d nodes, tensors %@, model file %@; load+validate %.3f s, peak RSS %@ (%.2f× tensor bytes)  [target %@]",
                 label, Int(f[3]) ?? 0, humanBytes(tb), humanBytes(fileBytes), secs, humanBytes(rss), Double(rss) / Double(tb), target))
}

let t0 = now()
try! SyntheticModels.resnet18(placement: .safetensors(fileName: "resnet18.safetensors"), seed: 1)
    .write(directory: dir, modelFile: "resnet18.json")
try! SyntheticModels.mlp1M(placement: .inline, seed: 1).write(directory: dir, modelFile: "mlp-inline-1m.json")
print(String(format: "generated models in %.2f s under %@", now() - t0, dir))
measure("resnet18-imagenet (safetensors)", dir + "/resnet18.json", target: "< 1 s, < 2× tensor bytes")
measure("mlp-inline-1m (inline JSON)", dir + "/mlp-inline-1m.json", target: "< 3 s")

func simulateBenchmark(_ a: [String]) {
    func opt(_ name: String) -> String? { a.firstIndex(of: name).flatMap { $0 + 1 < a.count ? a[$0 + 1] : nil } }
    let images = Int(opt("--images") ?? "") ?? 8
    let duration = Int(opt("--duration") ?? "") ?? 500
    var samples: [[Double]]
    var model: Model
    var label: String
    let example = opt("--example")
    if let mp = opt("--model") ?? example.map({ "Examples/\($0)/model.json" }), let dp = opt("--data") ?? example.map({ "Examples/\($0)/test-data.json" }) {
        let loaded = ModelLoader.load(path: mp)
        guard let m = loaded.model else {
            writeAll(2, loaded.diagnostics.map { $0.description + "\n" }.joined())
            exit(1)
        }
        switch DataLoader.load(path: dp) {
        case .success(let d): samples = d.prefix(images).samples
        case .failure(let e):
            writeAll(2, e.diagnostics.map { $0.description + "\n" }.joined())
            exit(1)
        }
        model = m
        label = mp
    } else {
        let dir = NSTemporaryDirectory() + "snnc-bench-sim-\(getpid())"
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try! SyntheticModels.mnistPaper(placement: .safetensors(fileName: "model.safetensors"), seed: 1).write(directory: dir)
        model = ModelLoader.load(path: dir + "/model.json").model!
        var rng = SeededRandom(seed: 7)
        // Synthetic digit-like images: a few bright strokes on a dark background.
        samples = (0..<images).map { _ in
            var img = [Double](repeating: 0, count: 784)
            for _ in 0..<6 {
                let (y0, x0) = (Int(rng.next() % 20) + 4, Int(rng.next() % 20) + 4)
                let (dy, dx) = (Int(rng.next() % 3) - 1, Int(rng.next() % 3) - 1)
                for k in 0..<8 {
                    let y = y0 + k * dy, x = x0 + k * dx
                    if y >= 0 && y < 28 && x >= 0 && x < 28 { img[y * 28 + x] = 0.8 + 0.2 * rng.uniform() }
                }
            }
            return img
        }
        label = "mnist-paper architecture, UNTRAINED synthetic weights and images"
    }
    let net = try! SpikingNetwork.lower(model).get()
    let json = a.contains("--json")
    if !json { print("simulate benchmark: \(label); \(samples.count) images × \(duration) ms") }
    var perThread1 = 0.0
    var rows: [String] = []
    for threads in [1, 2] {
        var o = SimulationOptions()
        o.durationMs = duration
        o.threads = threads
        let t0 = now()
        let results = Simulator(network: net, options: o).run(images: samples)
        let dt = now() - t0
        let events = results.reduce(0) { $0 + $1.synapticEvents }
        let spikes = results.reduce(0) { $0 + $1.spikesPerLayer.reduce(0, +) }
        let eps = Double(events) / dt
        if threads == 1 { perThread1 = eps }
        rows.append(String(format: "    {\"threads\": %d, \"seconds\": %.3f, \"synaptic_events\": %ld, \"events_per_s\": %.4g, \"events_per_s_per_thread\": %.4g, \"images_per_s\": %.4g, \"spikes_per_image\": %.6g}",
                           threads, dt, events, eps, eps / Double(threads), Double(samples.count) / dt, Double(spikes) / Double(samples.count)))
        if json { continue }
        print(String(format: "  %d thread%@: %.2f s, %.3g synaptic events/s (%.3g per thread), %.2f images/s, %.3g events and %.3g spikes per image%@",
                     threads, threads == 1 ? "" : "s", dt, eps, eps / Double(threads), Double(samples.count) / dt,
                     Double(events) / Double(samples.count), Double(spikes) / Double(samples.count),
                     threads == 2 ? String(format: ", scaling %.2f×", eps / perThread1) : ""))
    }
    if json {
        print("{\n  \"benchmark\": \"simulate\",\n  \"model\": \"\(label)\",\n  \"images\": \(samples.count),\n  \"duration_ms\": \(duration),\n  \"runs\": [\n" + rows.joined(separator: ",\n") + "\n  ]\n}")
    }
}
