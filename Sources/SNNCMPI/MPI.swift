// The only Swift code that touches MPI (Open MPI from Debian, CMPI): start and finish, the
// collectives snnc needs — all-gather of byte strings, all-to-all of byte strings, element-wise
// sums and maxima — and abort. Errors return (MPI_ERRORS_RETURN) and end the job through
// `abort`, so a failing rank never leaves the others waiting.
import CMPI
#if canImport(Glibc)
import Glibc
#endif

/// MPI_COMM_WORLD. Used from the main thread only (MPI_THREAD_FUNNELED is not needed: worker
/// threads never call MPI), hence @unchecked Sendable.
public final class MPIWorld: @unchecked Sendable {
    public let rank: Int
    public let size: Int
    let comm: MPI_Comm

    /// MPI_Init; nil (with the reason on stderr) when MPI cannot start.
    public static func start() -> MPIWorld? {
        var argc: Int32 = 0
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
        guard MPI_Init(&argc, &argv) == MPI_SUCCESS else { return nil }
        guard let comm = snnc_mpi_comm_world() else { return nil }
        MPI_Comm_set_errhandler(comm, snnc_mpi_errors_return())
        var r: Int32 = 0, n: Int32 = 0
        MPI_Comm_rank(comm, &r)
        MPI_Comm_size(comm, &n)
        return MPIWorld(rank: Int(r), size: Int(n), comm: comm)
    }

    init(rank: Int, size: Int, comm: MPI_Comm) {
        self.rank = rank
        self.size = size
        self.comm = comm
    }

    public func finish() { MPI_Finalize() }

    /// Wall-clock seconds (MPI_Wtime).
    public func now() -> Double { MPI_Wtime() }

    /// Ends every rank of the job (mpirun kills the others within seconds).
    public func abort(_ status: Int32) -> Never {
        MPI_Abort(comm, status)
        exit(status)
    }

    func check(_ rc: Int32, _ what: String) {
        guard rc != MPI_SUCCESS else { return }
        var text = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var len: Int32 = 0
        MPI_Error_string(rc, &text, &len)
        let message = String(decoding: text.prefix(Int(len)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var line = Array("snnc-mpi: rank \(rank) of \(size): error[mpi-failed]: \(what): \(message)\n".utf8)
        _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
        abort(1)
    }

    /// Every rank's bytes, in rank order, on every rank.
    public func allGather(_ bytes: [UInt8]) -> [[UInt8]] {
        var mine = Int32(clamping: bytes.count)
        var counts = [Int32](repeating: 0, count: size)
        check(MPI_Allgather(&mine, 1, snnc_mpi_int(), &counts, 1, snnc_mpi_int(), comm), "all-gather of sizes")
        let (displs, total) = offsets(counts)
        var all = [UInt8](repeating: 0, count: Swift.max(total, 1))
        var send = bytes
        check(MPI_Allgatherv(&send, mine, snnc_mpi_byte(), &all, counts, displs, snnc_mpi_byte(), comm), "all-gather")
        return (0..<size).map { Array(all[Int(displs[$0])..<(Int(displs[$0]) + Int(counts[$0]))]) }
    }

    /// Byte string r goes to rank r; returns what each rank sent this one, in rank order.
    public func allToAll(_ perRank: [[UInt8]]) -> [[UInt8]] {
        var sendCounts = perRank.map { Int32(clamping: $0.count) }
        var recvCounts = [Int32](repeating: 0, count: size)
        check(MPI_Alltoall(&sendCounts, 1, snnc_mpi_int(), &recvCounts, 1, snnc_mpi_int(), comm), "all-to-all of sizes")
        let (sd, _) = offsets(sendCounts), (rd, rt) = offsets(recvCounts)
        var send = perRank.flatMap { $0 }
        if send.isEmpty { send = [0] }
        var recv = [UInt8](repeating: 0, count: Swift.max(rt, 1))
        check(MPI_Alltoallv(&send, sendCounts, sd, snnc_mpi_byte(), &recv, recvCounts, rd, snnc_mpi_byte(), comm), "all-to-all")
        return (0..<size).map { Array(recv[Int(rd[$0])..<(Int(rd[$0]) + Int(recvCounts[$0]))]) }
    }

    public func sum(_ v: inout [Int64]) {
        guard !v.isEmpty else { return }
        let n = Int32(clamping: v.count)
        v.withUnsafeMutableBufferPointer { b in check(MPI_Allreduce(snnc_mpi_in_place(), b.baseAddress, n, snnc_mpi_int64(), snnc_mpi_sum(), comm), "sum") }
    }

    public func sum(_ v: inout [Double]) {
        guard !v.isEmpty else { return }
        let n = Int32(clamping: v.count)
        v.withUnsafeMutableBufferPointer { b in check(MPI_Allreduce(snnc_mpi_in_place(), b.baseAddress, n, snnc_mpi_double(), snnc_mpi_sum(), comm), "sum") }
    }

    public func max(_ v: inout [Double]) {
        guard !v.isEmpty else { return }
        let n = Int32(clamping: v.count)
        v.withUnsafeMutableBufferPointer { b in check(MPI_Allreduce(snnc_mpi_in_place(), b.baseAddress, n, snnc_mpi_double(), snnc_mpi_max(), comm), "maximum") }
    }

    private func offsets(_ counts: [Int32]) -> ([Int32], Int) {
        var d = [Int32](repeating: 0, count: counts.count), t = 0
        for (i, c) in counts.enumerated() { d[i] = Int32(clamping: t); t += Int(c) }
        return (d, t)
    }
}
