// `snnc-bench emulate [--images N] [--duration MS] [--profile P]`: compiles the MNIST example,
// runs the first N test images in the fixed-point emulator and in the float reference (hop
// delay 1), with 1 and then 2 threads, and prints synaptic events/s per thread and images/s.
import Foundation
import SNNCDriver
import SNNCEmulator
import SNNCIR
import SNNCReference

func emulateBenchmark(_ a: [String]) {
    func opt(_ name: String) -> String? { a.firstIndex(of: name).flatMap { $0 + 1 < a.count ? a[$0 + 1] : nil } }
    let images = Int(opt("--images") ?? "4") ?? 4
    let duration = Int(opt("--duration") ?? "200") ?? 200
    let profile = opt("--profile") ?? "generic"
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    let dir = NSTemporaryDirectory() + "snnc-bench-emulate-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var co = Compile.Options(modelPath: root + "/Examples/mnist/model.json")
    co.profile = profile
    co.output = dir
    let c = Compile.run(co)
    guard c.status == .success else { print(c.stderr); exit(1) }
    let net = try! ArtefactReader.load(dir)
    let data = try! DataLoader.load(path: root + "/Examples/mnist/test-data.json").get().prefix(images)
    let ref = try! SpikingNetwork.lower(ModelLoader.load(path: dir + "/source-model.json").model!).get()
    print("MNIST example on '\(profile)', \(images) test images × \(duration) steps, \(net.synapses) synapses in the artefact")
    print("engine              threads  seconds  images/s  synaptic events/image  events/s/thread")
    for threads in [1, 2] {
        var eo = EmulationOptions()
        eo.durationMs = duration
        eo.threads = threads
        let t0 = now()
        let r = Emulator(net, options: eo).run(images: data.samples)
        let dt = now() - t0
        let ev = Double(r.reduce(0) { $0 + $1.synapticEvents })
        print(String(format: "fixed point (emu)   %7d  %7.2f  %8.3f  %21.3e  %15.3e", threads, dt, Double(images) / dt, ev / Double(images), ev / dt / Double(threads)))
        var so = SimulationOptions()
        so.durationMs = duration
        so.hopDelay = 1
        so.threads = threads
        let t1 = now()
        let f = Simulator(network: ref, options: so).run(images: data.samples)
        let df = now() - t1
        let evf = Double(f.reduce(0) { $0 + $1.synapticEvents })
        print(String(format: "float reference     %7d  %7.2f  %8.3f  %21.3e  %15.3e", threads, df, Double(images) / df, evf / Double(images), evf / df / Double(threads)))
    }
}
