// Emulation spread over MPI ranks (Docs/mpi.md), on top of MPI.swift:
//   --distribute chips   ranks are chips: rank r steps a contiguous block of the artefact's chips
//                        (balanced by their work); each step, packets for other ranks' chips go
//                        through one all-to-all (MPIExchange: one epoch = one step, the hop delay)
//                        and the step's totals through one all-reduce (MPICollective).
//   --distribute images  ranks share the test set: contiguous shards, results all-gathered.
// Either way every rank ends with the single-process result; rank 0 prints it.
import SNNCArtefact
import SNNCEmulator
import SNNCReference

/// The packets between ranks: each step, rank r sends every rank the packets its chips made for
/// that rank's chips, in source-chip order, then the order sent (16 bytes each: destination core,
/// axon, payload); received buffers come in rank order, which is source-chip order because ranks
/// hold contiguous blocks of chips — the order InProcessExchange gives. A class, so the caller
/// reads the byte count and time of the copy the emulator used.
public final class MPIExchange: SpikeExchange {
    let world: MPIWorld
    let chipOfCore: [Int32]
    /// The rank that steps each core's chip.
    let rankOfCore: [Int32]
    let localChips: [Int]
    var sent: [OutgoingPackets]
    var pending: [OutgoingPackets]
    /// Bytes this rank sent to other ranks, and seconds it spent in the exchange (packing,
    /// the all-to-all, unpacking), over the run.
    public private(set) var bytesSent = 0
    public private(set) var seconds = 0.0

    public init(world: MPIWorld, chipOfCore: [Int32], rankOfChip: [Int]) {
        self.world = world
        self.chipOfCore = chipOfCore
        rankOfCore = chipOfCore.map { Int32(rankOfChip[Int($0)]) }
        localChips = rankOfChip.indices.filter { rankOfChip[$0] == world.rank }
        sent = [OutgoingPackets](repeating: OutgoingPackets(), count: rankOfChip.count)
        pending = sent
    }

    public func send(fromChip chip: Int, _ out: OutgoingPackets) { sent[chip] = out }

    public func exchange() {
        let t0 = world.now()
        defer { seconds += world.now() - t0 }
        var out = [[UInt8]](repeating: [], count: world.size)
        for k in localChips {
            for (i, dc) in sent[k].destCore.enumerated() {
                let r = Int(rankOfCore[Int(dc)])
                let p = sent[k].packets[i]
                Bytes.put(Int64(dc) | (Int64(p.axon) << 32), &out[r])
                Bytes.put(p.payload, &out[r])
            }
            sent[k].removeAll()
        }
        for r in out.indices where r != world.rank { bytesSent += out[r].count }
        let got = world.allToAll(out)
        for k in localChips { pending[k].removeAll() }
        for buf in got {
            var i = 0
            while i + 16 <= buf.count {
                let a = Bytes.get(buf, i), payload = Bytes.get(buf, i + 8)
                let dc = Int(Int32(truncatingIfNeeded: a)), axon = Int32(truncatingIfNeeded: a >> 32)
                pending[Int(chipOfCore[dc])].append(dc, Packet(axon: axon, payload: payload))
                i += 16
            }
        }
    }

    public func receive(chip: Int) -> OutgoingPackets { pending[chip] }
}

/// Sums and maxima over ranks (a class, so the caller sees the seconds spent in them).
public final class MPICollective: Collective {
    let world: MPIWorld
    public private(set) var seconds = 0.0
    public init(world: MPIWorld) { self.world = world }
    public func sum(_ v: inout [Int64]) { timed { world.sum(&v) } }
    public func sum(_ v: inout [Double]) { timed { world.sum(&v) } }
    public func max(_ v: inout [Double]) { timed { world.max(&v) } }
    func timed(_ f: () -> Void) {
        let t0 = world.now()
        f()
        seconds += world.now() - t0
    }
}

/// What a run by chips measured on this rank, and over all ranks.
public struct ChipsFigures: Sendable {
    /// Bytes all ranks sent to other ranks, per step.
    public var bytesPerStep = 0.0
    /// Wall seconds per step of the emulation (load excluded), and the share of it this rank
    /// (the slowest, by max over ranks) spent in the exchange and the per-step sums.
    public var secondsPerStep = 0.0
    public var exchangeShare = 0.0
    public init(bytesPerStep: Double = 0, secondsPerStep: Double = 0, exchangeShare: Double = 0) {
        (self.bytesPerStep, self.secondsPerStep, self.exchangeShare) = (bytesPerStep, secondsPerStep, exchangeShare)
    }
}

public enum Distribution {
    /// Contiguous blocks of chips, one per rank, balanced by the work their cores hold (a rank
    /// may get none when there are more ranks than chips).
    public static func ranksOfChips(_ net: EmuNetwork, ranks: Int) -> [Int] {
        let cost = net.chips.map { $0.reduce(0) { $0 + net.cores[$1].work } }
        let total = cost.reduce(0, +)
        var sum = 0
        return cost.map { c in
            defer { sum += c }
            return Swift.min(ranks - 1, (2 * sum + c) * ranks / Swift.max(2 * total, 1))
        }
    }

    /// Rank r's contiguous shard of n items.
    public static func shard(_ n: Int, rank r: Int, of size: Int) -> Range<Int> { (r * n / size)..<((r + 1) * n / size) }

    /// Runs the emulator's images with the ranks as chips: every image in lock-step on every rank.
    public static func emulateByChips(_ world: MPIWorld, _ emu: Emulator, _ images: [[Double]], threads: Int, figures: inout ChipsFigures) -> [EmulatedImage] {
        let net = emu.net
        let chipOfCore = emu.chipOfCore
        let rankOfChip = ranksOfChips(net, ranks: world.size)
        var results: [EmulatedImage] = []
        var bytes = 0, steps = 0, inExchange = 0.0
        let t0 = world.now()
        for image in images {
            let exchange = MPIExchange(world: world, chipOfCore: chipOfCore, rankOfChip: rankOfChip)
            let collective = MPICollective(world: world)
            let share = ProcessShare(chips: exchange.localChips, exchange: exchange, collective: collective)
            let r = emu.emulate(frames: [image], stepsPerFrame: emu.options.durationMs, coreThreads: Swift.max(1, threads), processes: share)
            bytes += exchange.bytesSent
            inExchange += exchange.seconds + collective.seconds
            steps += r.classes.count
            results.append(r)
        }
        let wall = world.now() - t0
        var v = [Int64(bytes)]
        world.sum(&v)
        var m = [wall, inExchange / Swift.max(wall, 1e-9)]
        world.max(&m)
        figures = ChipsFigures(bytesPerStep: steps > 0 ? Double(v[0]) / Double(steps) : 0, secondsPerStep: steps > 0 ? m[0] / Double(steps) : 0,
                               exchangeShare: m[1])
        return results
    }

    public static func encode(_ e: EmulatedImage, _ o: inout [UInt8]) { Bytes.put(e, &o) }
    public static func encode(_ r: ImageResult, _ o: inout [UInt8]) { Bytes.put(r, &o) }
    public static func decodeEmulated(_ b: [UInt8], _ i: inout Int) -> EmulatedImage { Bytes.emulated(b, &i) }
    public static func decodeReference(_ b: [UInt8], _ i: inout Int) -> ImageResult { Bytes.reference(b, &i) }

    /// Each rank runs its shard; the results are all-gathered in image order.
    public static func byImages<R>(_ world: MPIWorld, _ n: Int, run: (Range<Int>) -> [R], encode: (R, inout [UInt8]) -> Void,
                                   decode: ([UInt8], inout Int) -> R) -> [R] {
        let mine = run(shard(n, rank: world.rank, of: world.size))
        var bytes: [UInt8] = []
        for r in mine { encode(r, &bytes) }
        var all: [R] = []
        for buf in world.allGather(bytes) {
            var i = 0
            while i < buf.count { all.append(decode(buf, &i)) }
        }
        return all
    }
}

/// Little-endian integers and doubles for results sent between ranks.
enum Bytes {
    static func put(_ v: Int64, _ out: inout [UInt8]) { for s in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: v >> Int64(s))) } }
    static func put(_ v: Double, _ out: inout [UInt8]) { ArtefactFormat.le64(v, &out) }
    static func put(_ v: [Int], _ out: inout [UInt8]) { put(Int64(v.count), &out); for x in v { put(Int64(x), &out) } }
    static func put(_ v: [Double], _ out: inout [UInt8]) { put(Int64(v.count), &out); for x in v { put(x, &out) } }
    static func get(_ b: [UInt8], _ i: Int) -> Int64 {
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(b[i + k]) << UInt64(8 * k) }
        return Int64(bitPattern: v)
    }
    static func int(_ b: [UInt8], _ i: inout Int) -> Int { defer { i += 8 }; return Int(get(b, i)) }
    static func double(_ b: [UInt8], _ i: inout Int) -> Double { defer { i += 8 }; return ArtefactFormat.f64(b, i) }
    static func ints(_ b: [UInt8], _ i: inout Int) -> [Int] { let n = int(b, &i); return (0..<n).map { _ in int(b, &i) } }
    static func doubles(_ b: [UInt8], _ i: inout Int) -> [Double] { let n = int(b, &i); return (0..<n).map { _ in double(b, &i) } }

    /// A fixed-point result (the strict failure and the raster stay with the rank that ran it).
    static func put(_ e: EmulatedImage, _ o: inout [UInt8]) {
        put(e.classes.map { Int($0) }, &o); put(e.spikesPerLayer, &o); put(Int64(e.synapticEvents), &o); put(e.overflowsPerLayer, &o)
        put(e.coreCycles, &o); put(e.slowestCoreCycles, &o); put(e.worstStepCycles, &o)
        put([e.worstStepHops, e.stepsOverBudget, e.packets, e.packetHops, e.neuronUpdates, e.aroused ? 1 : 0], &o)
        put(e.eventsPerFrame, &o); put(e.layerCycles, &o)
    }
    static func emulated(_ b: [UInt8], _ i: inout Int) -> EmulatedImage {
        var e = EmulatedImage()
        e.classes = ints(b, &i).map { Int32(truncatingIfNeeded: $0) }
        e.spikesPerLayer = ints(b, &i); e.synapticEvents = int(b, &i); e.overflowsPerLayer = ints(b, &i)
        e.coreCycles = doubles(b, &i); e.slowestCoreCycles = double(b, &i); e.worstStepCycles = double(b, &i)
        let k = ints(b, &i)
        (e.worstStepHops, e.stepsOverBudget, e.packets, e.packetHops, e.neuronUpdates, e.aroused) = (k[0], k[1], k[2], k[3], k[4], k[5] != 0)
        e.eventsPerFrame = ints(b, &i); e.layerCycles = doubles(b, &i)
        return e
    }

    /// A float-reference result (without rasters and traces).
    static func put(_ r: ImageResult, _ o: inout [UInt8]) {
        put(r.classes.map { Int($0) }, &o); put(r.spikesPerLayer, &o); put(Int64(r.synapticEvents), &o); put(r.finalReadout, &o)
        put([r.aroused ? 1 : 0], &o); put(r.arousalEvidence, &o); put(r.arousalTrace, &o)
    }
    static func reference(_ b: [UInt8], _ i: inout Int) -> ImageResult {
        var r = ImageResult(classes: ints(b, &i).map { Int32(truncatingIfNeeded: $0) }, spikesPerLayer: ints(b, &i), synapticEvents: int(b, &i), finalReadout: doubles(b, &i))
        r.aroused = ints(b, &i).first == 1
        r.arousalEvidence = double(b, &i)
        r.arousalTrace = doubles(b, &i)
        return r
    }
}
