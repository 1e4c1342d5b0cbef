// Round GL points, one per node or edge sample (world space), sized like the spheres they stand for.

uniform float size;
uniform float importanceThreshold;
uniform float pixelsPerUnit;  // screen pixels per world unit at view depth 1

in vec4 colour;
in vec2 scoreAndT;

out vec4 vColour;
out float vDepthView;

const float MIN_POINT_PIXELS = 1.0;
const float MAX_POINT_PIXELS = 64.0;
const vec4 CULLED = vec4(2.0, 2.0, 2.0, 1.0);

void main() {
  float radius = size * scoreAndT.x;
  if (scoreAndT.x <= importanceThreshold || radius <= 0.0 || importanceTerm(colour.a) <= 0.0) {
    gl_Position = CULLED;
    gl_PointSize = 0.0;
    return;
  }
  vec4 positionView = modelViewMatrix * vec4(position, 1.0);
  vColour = colour;
  vDepthView = -positionView.z;
  gl_PointSize = clamp(2.0 * radius * pixelsPerUnit / max(vDepthView, 1e-6), MIN_POINT_PIXELS, MAX_POINT_PIXELS);
  gl_Position = projectionMatrix * positionView;
}
