import Glibc

/// A minimal blocking HTTP/1.1 client over loopback TCP for the demo: one connection per
/// request (`Connection: close`), the whole response read until the server closes.
struct LoopbackHTTPClient {
    /// A response: the status code and the body.
    struct Response {
        var status: Int
        var body: String
    }

    /// An error with the errno of the failed call.
    struct Failure: Error, CustomStringConvertible {
        var call: String
        var code: Int32
        var description: String { "\(call) failed: \(String(cString: strerror(code)))" }
    }

    var port: Int

    /// Sends `GET target` to 127.0.0.1:port and returns the response.
    func get(_ target: String) throws -> Response {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(call: "socket", code: errno) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure(call: "connect", code: errno) }
        let request = Array("GET \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            let n = request.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(call: "send", code: errno)
            }
            sent += n
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4_096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(call: "recv", code: errno)
            }
            if n == 0 { break }
            received += chunk[0..<n]
        }
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        let headEnd = received.indices.first { received[$0...].starts(with: separator) } ?? received.endIndex
        let head = String(decoding: received[..<headEnd], as: UTF8.self)
        let statusLine = head.split(separator: "\r\n", maxSplits: 1).first ?? ""
        let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        let bodyStart = min(headEnd + separator.count, received.endIndex)
        return Response(status: status, body: String(decoding: received[bodyStart...], as: UTF8.self))
    }
}
