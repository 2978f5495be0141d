/** Which layer of an artifact is its content: the one source-controller extracts. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fluxLayer } from "../../lib/artifact/pull";
import { FLUX_CONTENT_MEDIA_TYPE } from "../../lib/artifact/build";

test("fluxLayer: the first layer without a selector, the first match with one, none when absent", () => {
    const other = { mediaType: "application/vnd.example.readme.v1+text", digest: "a" };
    const content = { mediaType: FLUX_CONTENT_MEDIA_TYPE, digest: "b" };
    assert.equal(fluxLayer([content, other]), content);
    assert.equal(fluxLayer([other, content]), other, "no layerSelector: Flux takes the first layer, whatever its type");
    assert.equal(fluxLayer([other, content], { mediaType: FLUX_CONTENT_MEDIA_TYPE }), content);
    assert.equal(fluxLayer([other], { mediaType: FLUX_CONTENT_MEDIA_TYPE }), undefined);
    assert.equal(fluxLayer([]), undefined);
});
