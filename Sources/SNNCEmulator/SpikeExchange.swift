// Chips and the spike exchange. Cores are grouped by the chip cores.json gives them; a packet
// to a core of the same chip goes straight to that core's inbox for the next step (through the
// sink of the worker thread that stepped the sender, WorkerSink), a packet that
// leaves the chip goes through a SpikeExchange, which delivers every chip's outgoing packets
// once per step, after all chips have stepped, in a fixed order (source chip, then the order
// sent). Integer synaptic sums do not depend on arrival order, and the order is fixed anyway, so
// results are identical however chips are spread over threads or processes.
//
// The interface is what a multi-process exchange needs: a chip only hands over
// (destination core, packet) pairs and receives the packets for its own cores — no array is
// shared between chips.

/// Packets one chip sends to the cores of other chips in one step.
public struct OutgoingPackets: Sendable {
    public var destCore: [Int32] = []
    public var packets: [Packet] = []
    public init() {}
    public mutating func append(_ core: Int, _ p: Packet) {
        destCore.append(Int32(core))
        packets.append(p)
    }
    public var isEmpty: Bool { packets.isEmpty }
    public mutating func removeAll() {
        destCore.removeAll(keepingCapacity: true)
        packets.removeAll(keepingCapacity: true)
    }
}

public protocol SpikeExchange {
    /// Chip `chip`'s packets for other chips this step (called once per local chip per step).
    mutating func send(fromChip chip: Int, _ out: OutgoingPackets)
    /// Once per step, after every local chip has sent: the exchange itself (between processes,
    /// a collective every process enters).
    mutating func exchange()
    /// Then: the packets for chip `chip`'s cores, in the fixed order (source chip, then the
    /// order sent).
    mutating func receive(chip: Int) -> OutgoingPackets
}

/// Sums and maxima over the processes of a spread run, element-wise; every process gets the
/// result (an MPI all-reduce: SNNCMPI). The order of the operands does not change integer sums,
/// and each Double summed has one non-zero operand, so results equal one process's.
public protocol Collective {
    mutating func sum(_ v: inout [Int64])
    mutating func sum(_ v: inout [Double])
    mutating func max(_ v: inout [Double])
}

/// One process's share of a run spread over several: the chips it steps, the exchange that
/// carries packets to the other processes' chips, and the collective for the run's totals.
public struct ProcessShare {
    public var chips: [Int]
    public var exchange: any SpikeExchange
    public var collective: any Collective
    public init(chips: [Int], exchange: any SpikeExchange, collective: any Collective) {
        self.chips = chips
        self.exchange = exchange
        self.collective = collective
    }
}

/// The deterministic in-process exchange: per destination chip, the packets in source-chip order.
public struct InProcessExchange: SpikeExchange {
    let chipOfCore: [Int32]
    var pending: [OutgoingPackets]
    var sent: [OutgoingPackets]

    public init(chipOfCore: [Int32], chips: Int) {
        self.chipOfCore = chipOfCore
        pending = [OutgoingPackets](repeating: OutgoingPackets(), count: chips)
        sent = pending
    }

    public mutating func send(fromChip chip: Int, _ out: OutgoingPackets) {
        sent[chip] = out
    }

    /// Sorts every chip's packets by destination chip, source chips in order.
    public mutating func exchange() {
        for d in pending.indices { pending[d].removeAll() }
        for s in sent.indices {
            for (k, dc) in sent[s].destCore.enumerated() { pending[Int(chipOfCore[Int(dc)])].append(Int(dc), sent[s].packets[k]) }
            sent[s].removeAll()
        }
    }

    public mutating func receive(chip: Int) -> OutgoingPackets { pending[chip] }
}

/// Where the packets of the cores one worker steps go within one step: to next step's inbox of
/// a core of the same chip, or to the chip's outgoing packets (the spike exchange). One per
/// worker thread, so the cores of one chip can step on several threads; the emulator merges
/// the workers' packets in worker order.
struct WorkerSink: PacketSink {
    let chipOfCore: [Int32]
    /// The chip of the core now stepping.
    var chip: Int32 = 0
    /// Next step's inboxes, by global core index (only cores this worker sent to are non-empty).
    var nextInbox: [[Packet]]
    /// Per chip: its cores' packets for other chips.
    var outgoing: [OutgoingPackets]

    init(chipOfCore: [Int32], chips: Int) {
        self.chipOfCore = chipOfCore
        nextInbox = [[Packet]](repeating: [], count: chipOfCore.count)
        outgoing = [OutgoingPackets](repeating: OutgoingPackets(), count: chips)
    }

    mutating func send(from core: Int, to dest: Int, _ packet: Packet) {
        if chipOfCore[dest] == chip { nextInbox[dest].append(packet) } else { outgoing[Int(chip)].append(dest, packet) }
    }
}
