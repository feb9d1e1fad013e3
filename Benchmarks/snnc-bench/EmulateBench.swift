// `snnc-bench emulate [--example mnist|mnist-relu|…] [--profile P] [--images N] [--duration MS] [--json]`:
// compiles a trained example, runs its first N test images in the fixed-point emulator and in
// the float reference (hop delay 1) in the same run, with 1 and then 2 threads, and prints
// synaptic events/s per thread and images/s for both (Docs/benchmarks.md), the artefact's size
// and how much of its binary synapse memory runs narrow (16-bit weights, 32-bit sums); then the
// first image alone with its cores stepped by 1 and 2 threads (one long stream).
import Foundation
import SNNCDriver
import SNNCEmulator
import SNNCIR
import SNNCJSON
import SNNCReference

func emulateBenchmark(_ a: [String]) {
    func opt(_ name: String) -> String? { a.firstIndex(of: name).flatMap { $0 + 1 < a.count ? a[$0 + 1] : nil } }
    let images = Int(opt("--images") ?? "4") ?? 4
    let duration = Int(opt("--duration") ?? "200") ?? 200
    let profile = opt("--profile") ?? "generic"
    let example = opt("--example") ?? "mnist"
    let json = a.contains("--json")
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    let dir = NSTemporaryDirectory() + "snnc-bench-emulate-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var co = Compile.Options(modelPath: root + "/Examples/\(example)/model.json")
    co.profile = profile
    co.output = dir
    let c = Compile.run(co)
    guard c.status == .success else { print(c.stderr); exit(1) }
    let bytes = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: dir + "/" + $1)[.size] as? Int) ?? 0) }
    func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(1)
    }
    let dataPath = root + "/Examples/\(example)/test-data.json"
    guard FileManager.default.fileExists(atPath: dataPath) else { fail("snnc-bench emulate: example '\(example)' has no test-data.json (MNIST-sized examples have one)") }
    let net: EmuNetwork, data: Dataset, ref: SpikingNetwork
    do {
        net = try ArtefactReader.load(dir)
        data = try DataLoader.load(path: dataPath).get().prefix(images)
        guard let model = ModelLoader.load(path: dir + "/source-model.json").model else { fail("snnc-bench emulate: cannot read the artefact's source model") }
        ref = try SpikingNetwork.lower(model).get()
    } catch {
        fail("snnc-bench emulate: \(error)")
    }
    let binary = net.cores.flatMap(\.ranges).filter { $0.mode == .binary }
    let narrow = binary.filter(\.narrow).count
    if !json {
        print("\(example) on '\(profile)', \(images) test images × \(duration) steps; artefact \(groupedDigits(bytes)) bytes, \(groupedDigits(net.synapses)) synapses, \(net.cores.count) cores; narrow binary ranges \(narrow) of \(binary.count)")
        print("engine              threads  seconds  images/s  synaptic events/image  events/s/thread")
    }
    var rows: [JSONOutput] = []
    for threads in [1, 2] {
        var eo = EmulationOptions()
        eo.durationMs = duration
        eo.threads = threads
        let t0 = now()
        let r = Emulator(net, options: eo).run(images: data.samples)
        let dt = now() - t0
        let ev = Double(r.reduce(0) { $0 + $1.synapticEvents })
        var so = SimulationOptions()
        so.durationMs = duration
        so.hopDelay = 1
        so.threads = threads
        let t1 = now()
        let f = Simulator(network: ref, options: so).run(images: data.samples)
        let df = now() - t1
        let evf = Double(f.reduce(0) { $0 + $1.synapticEvents })
        for (engine, secs, events) in [("fixed point (emu)", dt, ev), ("float reference", df, evf)] {
            if !json {
                print(String(format: "%-19@ %7d  %7.2f  %8.3f  %21.3e  %15.3e", engine as NSString, threads, secs, Double(images) / secs, events / Double(images), events / secs / Double(threads)))
            }
            rows.append(.object([("engine", .string(engine)), ("threads", .int(threads)), ("seconds", .double(secs)), ("images_per_second", .double(Double(images) / secs)),
                                 ("synaptic_events", .double(events)), ("events_per_second_per_thread", .double(events / secs / Double(threads)))]))
        }
    }
    // One long stream: the first image alone, its cores stepped by 1 and then 2 threads within
    // each step — the speed-up, and whether the results are identical (they must be).
    var stream: [(threads: Int, seconds: Double, result: EmulatedImage)] = []
    if let first = data.samples.first {
        for threads in [1, 2] {
            var eo = EmulationOptions()
            eo.durationMs = duration
            let t0 = now()
            let r = Emulator(net, options: eo).emulate(frames: [first], stepsPerFrame: duration, coreThreads: threads)
            stream.append((threads, now() - t0, r))
        }
    }
    let identical = stream.count == 2 && stream[0].result.classes == stream[1].result.classes && stream[0].result.spikesPerLayer == stream[1].result.spikesPerLayer
        && stream[0].result.synapticEvents == stream[1].result.synapticEvents && stream[0].result.coreCycles == stream[1].result.coreCycles
    if !json, stream.count == 2 {
        print(String(format: "one stream (image 1, cores in parallel within each step): 1 thread %.2f s, 2 threads %.2f s (%.2f×), results %@",
                     stream[0].seconds, stream[1].seconds, stream[0].seconds / stream[1].seconds, (identical ? "identical" : "DIFFERENT") as NSString))
    }
    if json {
        rows.append(contentsOf: stream.map { r in
            .object([("engine", .string("fixed point (emu), one stream, cores in parallel")), ("threads", .int(r.threads)), ("seconds", .double(r.seconds)),
                     ("synaptic_events", .double(Double(r.result.synapticEvents))),
                     ("events_per_second_per_thread", .double(Double(r.result.synapticEvents) / r.seconds / Double(r.threads))),
                     ("identical_to_one_thread", .bool(identical))])
        })
        print(JSONOutput.object([("benchmark", .string("emulate")), ("example", .string(example)), ("profile", .string(profile)), ("images", .int(images)),
                                 ("duration_ms", .int(duration)), ("artefact_bytes", .int(bytes)), ("synapses", .int(net.synapses)), ("cores", .int(net.cores.count)),
                                 ("narrow_binary_ranges", .int(narrow)), ("binary_ranges", .int(binary.count)), ("runs", .array(rows))]).serialized(), terminator: "")
    }
}
