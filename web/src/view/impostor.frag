// Ray casts the sphere or segment ellipsoid set up by impostor.vert, per pixel, in view space (camera at the
// origin). TRANSPARENT: the opacity formula over white for the MIN/MAX blend, no depth. Otherwise Phong with
// the true depth written, for the depth-tested opaque modes.

uniform mat4 projectionMatrix;

flat in vec3 vCentreView;
flat in vec3 vAxisView;
flat in vec2 vRadii;
flat in vec2 vAlongLimits;
flat in vec4 vColourStart;
flat in vec4 vColourEnd;
in vec3 vQuadView;

out vec4 fragColour;

const float AMBIENT = 0.35;
const float DIFFUSE = 0.65;
const float SPECULAR = 0.25;
const float SHININESS = 32.0;

// A view-space vector in the ellipsoid's unit-sphere space (a symmetric linear map).
vec3 toUnitSphere(vec3 vector) {
  float along = dot(vector, vAxisView);
  return vector / vRadii.y + along * (1.0 / vRadii.x - 1.0 / vRadii.y) * vAxisView;
}

void main() {
  vec3 directionView = normalize(vQuadView);
  vec3 origin = toUnitSphere(-vCentreView);
  vec3 direction = toUnitSphere(directionView);
  float a = dot(direction, direction);
  float b = dot(origin, direction);
  float c = dot(origin, origin) - 1.0;
  float discriminant = b * b - a * c;
  if (discriminant <= 0.0) discard;
  float root = sqrt(discriminant);
  float distanceHit = (-b - root) / a;
  if (distanceHit < 0.0) distanceHit = (-b + root) / a;  // camera inside: the far side
  if (distanceHit < 0.0) discard;
  vec3 hitView = directionView * distanceHit;
  // Chord through the unit sphere over its diameter: 1 through the centre, 0 at the silhouette.
  float centrality = root / sqrt(a);
  float along = dot(hitView - vCentreView, vAxisView) / vRadii.x;
  if (along < vAlongLimits.x || along > vAlongLimits.y) discard;
  vec4 colour = mix(vColourStart, vColourEnd, clamp(0.5 + 0.5 * along, 0.0, 1.0));
#ifdef TRANSPARENT
  float alpha = opacity(colour.a, relativeDepth(-hitView.z), centrality);
  if (alpha <= 0.0) discard;
  fragColour = overWhite(colour.rgb, alpha);
#else
  // Opaque: the importance alpha lifted (sqrt) so weak elements stay visible, then a camera headlight.
  vec3 base = overWhite(colour.rgb, sqrt(clamp(colour.a, 0.0, 1.0))).rgb;
  vec3 normal = normalize(toUnitSphere(toUnitSphere(hitView - vCentreView)));
  vec3 toEye = -directionView;
  float diffuse = max(dot(normal, toEye), 0.0);
  float specular = pow(max(dot(reflect(directionView, normal), toEye), 0.0), SHININESS);
  fragColour = vec4(base * (AMBIENT + DIFFUSE * diffuse) + SPECULAR * specular, 1.0);
  vec4 hitClip = projectionMatrix * vec4(hitView, 1.0);
  gl_FragDepth = 0.5 * hitClip.z / hitClip.w + 0.5;
#endif
}
