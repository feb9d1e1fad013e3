// snnc-mpi: `snnc emulate` spread over MPI ranks (Docs/mpi.md). Built only where Open MPI's
// development files are installed (Package.swift), so the plain `snnc` build never needs MPI.
//
//   mpirun -np R snnc-mpi emulate DIR --data D [--distribute chips|images] [--limit N]
//          [--duration MS] [--threads T] [--check] [--json] [--junit F] [--max-accuracy-drop P]
//          [--max-spike-deviation P]
//
// Every rank runs the same command; rank 0 prints the report, which is the single-process
// report (plus a `distribution` line / JSON field). Any rank that fails ends the whole job.
import SNNCArtefact
import SNNCDriver
import SNNCEmulator
import SNNCIR
import SNNCJSON
import SNNCMPI
#if canImport(Glibc)
import Glibc
#endif

/// The chips run's figure, set by the run and read by the report (main thread only).
final class Figure: @unchecked Sendable { var value = ChipsFigures() }

func run() -> Never {
    guard let world = MPIWorld.start() else {
        writeAll(2, "snnc-mpi: error[mpi-failed]: MPI_Init failed (run it under mpirun)\n")
        exit(1)
    }
    let who = "rank \(world.rank) of \(world.size)"

    /// Ends every rank: this rank's diagnostic first.
    func fail(_ message: String, status: Int32 = 1) -> Never {
        writeAll(2, "snnc-mpi: \(who): \(message)\n")
        world.abort(status)
    }

    // Arguments (the same on every rank).
    let usage = "usage: mpirun -np R snnc-mpi emulate DIR --data D [--distribute chips|images] [--limit N] [--duration MS] [--threads T] [--check] [--json] [--junit F] [--max-accuracy-drop P] [--max-spike-deviation P]"
    var args = Array(CommandLine.arguments.dropFirst())
    guard args.first == "emulate", args.count >= 2 else {
        if world.rank == 0 { writeAll(2, "snnc-mpi: error[usage]: \(usage)\n") }
        world.finish()
        exit(2)
    }
    args.removeFirst()
    var directory: String? = nil, dataPath: String? = nil, chosen = "chips", junit: String? = nil
    var o = Emulate.Options(directory: "", dataPath: "")
    o.progress = false
    var i = 0
    func value() -> String {
        guard i + 1 < args.count else {
            if world.rank == 0 { writeAll(2, "snnc-mpi: error[usage]: \(args[i]) needs a value\n\(usage)\n") }
            world.finish()
            exit(2)
        }
        i += 1
        return args[i]
    }
    func number(_ s: String) -> Double {
        guard let v = Double(s), v.isFinite, v >= 0 else {
            if world.rank == 0 { writeAll(2, "snnc-mpi: error[usage]: '\(s)' is not a number ≥ 0\n") }
            world.finish()
            exit(2)
        }
        return v
    }
    while i < args.count {
        switch args[i] {
        case "--data": dataPath = value()
        case "--distribute": chosen = value()
        case "--limit": o.limit = Int(number(value()))
        case "--duration": o.durationMs = Int(number(value()))
        case "--threads": o.threads = Int(number(value()))
        case "--check": o.check = true
        case "--json": o.json = true
        case "--junit": junit = value()
        case "--max-accuracy-drop": o.maxAccuracyDrop = number(value())
        case "--max-differing-percent": o.maxDifferingPercent = number(value())
        case "--max-spike-deviation": o.maxSpikeDeviation = number(value())
        case let a where !a.hasPrefix("-") && directory == nil: directory = a
        default:
            if world.rank == 0 { writeAll(2, "snnc-mpi: error[usage]: unknown argument '\(args[i])'\n\(usage)\n") }
            world.finish()
            exit(2)
        }
        i += 1
    }
    guard let dir = directory, let data = dataPath, ["chips", "images"].contains(chosen), (1...1_000_000).contains(o.durationMs) else {
        if world.rank == 0 { writeAll(2, "snnc-mpi: error[usage]: \(usage)\n") }
        world.finish()
        exit(2)
    }
    o.directory = dir
    o.dataPath = data
    // Rank 0 writes the JUnit report (every rank holds the same results).
    if world.rank == 0 { o.junitPath = junit }
    let mode = chosen

    // At start: every rank reads and verifies its artefact; a rank that cannot, or whose manifest
    // differs from rank 0's, is named and every rank refuses (exit 1) before any work.
    var start: [UInt8]
    switch Result(catching: { () throws(ArtefactError) in try ArtefactReader.load(dir) }) {
    case .success(let net):
        o.network = net
        start = [1] + ((try? readWholeFile(dir + "/" + ArtefactFormat.manifest, limit: 1 << 26)) ?? [])
    case .failure(let e): start = [0] + Array("\(e.file): error[artefact-invalid]: \(e.message)".utf8)
    }
    let all = world.allGather(start)
    var refusals: [String] = []
    for (r, s) in all.enumerated() {
        if s.first != 1 { refusals.append("rank \(r): " + String(decoding: s.dropFirst(), as: UTF8.self)) }
        else if all[0].first == 1 && s != all[0] { refusals.append("rank \(r): error[mpi-artefact-mismatch]: its artefact '\(dir)' has a different manifest from rank 0's (every rank must run the same compiled artefact)") }
    }
    if !refusals.isEmpty {
        if world.rank == 0 { writeAll(2, refusals.map { "snnc-mpi: " + $0 + "\n" }.joined()) }
        world.finish()
        exit(1)
    }

    // The samples: fixed point by chips or by images; the float reference (--check) by images.
    let threads = o.threads
    let figures = Figure()
    o.runFixed = { emu, images in
        if mode == "chips" {
            var f = ChipsFigures()
            let r = Distribution.emulateByChips(world, emu, images, threads: max(1, threads), figures: &f)
            figures.value = f
            return r
        }
        return Distribution.byImages(world, images.count, run: { emu.run(images: Array(images[$0])) }, encode: Distribution.encode, decode: Distribution.decodeEmulated)
    }
    o.runFloat = { sim, images in
        Distribution.byImages(world, images.count, run: { sim.run(images: Array(images[$0])) }, encode: Distribution.encode, decode: Distribution.decodeReference)
    }
    o.distribution = {
        let f = figures.value
        let text = mode == "chips"
            ? "distributed over \(world.size) MPI ranks by chips: \(Int(f.bytesPerStep.rounded())) bytes exchanged between ranks per step, "
                + "\(Int((f.secondsPerStep * 1e6).rounded())) µs per step, \(Int((f.exchangeShare * 100).rounded())) % of it in the exchange and sums (slowest rank)"
            : "distributed over \(world.size) MPI ranks by images"
        var fields: [(String, JSONOutput)] = [("ranks", .int(world.size)), ("mode", .string(mode))]
        if mode == "chips" {
            fields += [("bytes_exchanged_per_step", .double(f.bytesPerStep)), ("seconds_per_step", .double(f.secondsPerStep)), ("exchange_share", .double(f.exchangeShare))]
        }
        return (text, .object(fields))
    }
    let r = Emulate.run(o)
    if r.status != .success && r.stdout.isEmpty {
        // The run did not complete on this rank (e.g. its data file is unreadable): the others may
        // be waiting in a collective, so the job ends here.
        fail(r.stderr.split(separator: "\n").joined(separator: "; "), status: r.status.rawValue)
    }
    if world.rank == 0 {
        writeAll(1, r.stdout)
        writeAll(2, r.stderr)
    }
    world.finish()
    exit(r.status.rawValue)
}

run()
