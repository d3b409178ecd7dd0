import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {decodeDiscoveredFleet, encodeFleetTxt, fleetInstanceName, ORCHARD_VERSION, type FleetAdvertisement} from "./fleet-advertisement.ts";

const ADVERTISEMENT: FleetAdvertisement = {
    name: "studio-6379", redisPort: 6379, redisHost: undefined, tls: false, keyPrefix: "orchard", runs: ["reviews-0a1b2c3d"], version: ORCHARD_VERSION
};

/** What bonjour-service's browser hands over for an advertisement: the TXT decoded to strings, the SRV port, the A records and the sender. */
function browsed(advertisement: FleetAdvertisement, extra: Record<string, unknown> = {}) {
    return {name: advertisement.name, port: advertisement.redisPort, txt: encodeFleetTxt(advertisement), addresses: ["192.168.1.20"], referer: {address: "192.168.1.20"}, ...extra};
}

describe("fleet advertisement (DNS-SD TXT)", () => {
    it("round-trips through the TXT record; the address is the advertiser's, or the Redis host it names", () => {
        assert.deepEqual(decodeDiscoveredFleet(browsed(ADVERTISEMENT)), {...ADVERTISEMENT, host: "192.168.1.20"});
        const elsewhere = {...ADVERTISEMENT, redisHost: "redis.lan", tls: true, redisPort: 6380, keyPrefix: "team:a"};
        assert.deepEqual(decodeDiscoveredFleet(browsed(elsewhere)), {...elsewhere, host: "redis.lan"});
        // no A record (a loopback-only responder): the address the answer came from; IPv4 before IPv6
        assert.equal((decodeDiscoveredFleet(browsed(ADVERTISEMENT, {addresses: [], referer: {address: "10.0.0.7"}})) as {host: string}).host, "10.0.0.7");
        assert.equal((decodeDiscoveredFleet(browsed(ADVERTISEMENT, {addresses: ["fd00::5", "10.0.0.8"]})) as {host: string}).host, "10.0.0.8");
    });

    it("holds exactly the fields of the advertisement: no password can be in it", () => {
        assert.deepEqual(Object.keys(encodeFleetTxt(ADVERTISEMENT)).sort(), ["port", "prefix", "runs", "tls", "txtvers", "version"]);
        assert.equal(encodeFleetTxt({...ADVERTISEMENT, redisHost: "redis.lan"}).host, "redis.lan");
    });

    it("lists as many whole run ids as fit one 255-byte TXT string", () => {
        const runs = Array.from({length: 20}, (_, i) => `run-number-${i}-0a1b2c3d`);
        const text = encodeFleetTxt({...ADVERTISEMENT, runs}).runs as string;
        assert.ok(Buffer.byteLength(`runs=${text}`) <= 255);
        const kept = text.split(",");
        assert.deepEqual(kept, runs.slice(0, kept.length));
        assert.ok(kept.length > 5 && kept.length < 20);
    });

    it("names the instance <short host>-<port>, within DNS-SD's 63 bytes", () => {
        assert.equal(fleetInstanceName("studio.local", 6379), "studio-6379");
        const long = fleetInstanceName("é".repeat(40), 65535);
        assert.ok(Buffer.byteLength(long) <= 63 && long.endsWith("-65535"), long);
    });

    it("refuses forged or foreign records, and strips terminal escapes from the name", () => {
        const refused = (service: Record<string, unknown>) => "refused" in decodeDiscoveredFleet(service as never);
        const txt = encodeFleetTxt(ADVERTISEMENT);
        assert.ok(refused(browsed(ADVERTISEMENT, {txt: {...txt, txtvers: "2"}})), "another layout");
        assert.ok(refused(browsed(ADVERTISEMENT, {port: 6380})), "SRV port other than the TXT's");
        assert.ok(refused(browsed(ADVERTISEMENT, {txt: {...txt, port: "70000"}, port: 70000})), "port out of range");
        assert.ok(refused(browsed(ADVERTISEMENT, {txt: {...txt, tls: "yes"}})));
        assert.ok(refused(browsed(ADVERTISEMENT, {txt: {...txt, runs: "ok-1,\u001b]52;c;ZXZpbA==\u0007"}})), "an escape sequence in a run id");
        assert.ok(refused(browsed(ADVERTISEMENT, {txt: {...txt, host: "evil host;rm -rf"}})), "a host that is not a host name");
        assert.ok(refused(browsed(ADVERTISEMENT, {txt: {...txt, prefix: "a b"}})));
        assert.ok(refused(browsed(ADVERTISEMENT, {addresses: ["not-an-ip"], referer: {address: "also not"}})), "no address");
        assert.ok(refused({...browsed(ADVERTISEMENT), txt: undefined}));
        const decoded = decodeDiscoveredFleet(browsed(ADVERTISEMENT, {name: "\u001b[2Jstudio\u202e-6379\r\nfake"}));
        assert.equal((decoded as {name: string}).name, "studio-6379 fake");
    });
});
