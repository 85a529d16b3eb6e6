// Test-only bridge to the libraries OHIF uses for DICOM SR: dcmjs reads/writes the file and
// @cornerstonejs/adapters (MeasurementReport) turns it into Cornerstone3D tool state ("hydration") or
// writes an SR from tool state exactly as OHIF's "Save measurements" does. Driven by tests/test_interop_ohif.py.
//
//   node ohif_sr.mjs hydrate IMAGES.json SR.dcm...         -> JSON on stdout: per SR, its groups and tool state
//   node ohif_sr.mjs generate IMAGES.json ANNOTATIONS.json OUT.dcm
//
// IMAGES.json: [{sopInstanceUID, sopClassUID, frame, seriesInstanceUID, studyInstanceUID, frameOfReferenceUID,
//               imagePositionPatient[3], imageOrientationPatient[6], pixelSpacing[2] (row, column), rows, columns,
//               instance: {...naturalized header tags for copyStudyTags/copySeriesTags}}]
// ANNOTATIONS.json: [{toolName, image (index into IMAGES), points [[x,y,z]...] (LPS mm), label, cachedStats,
//                     closed (PlanarFreehandROI)}]
import fs from 'node:fs';
import * as dcmjs from 'dcmjs';
import { metaData, utilities as csUtilities } from '@cornerstonejs/core';
import { adaptersSR } from '@cornerstonejs/adapters';

const { MeasurementReport } = adaptersSR.Cornerstone3D;

// The adapters log every hydrated measurement with console.log/info: keep stdout for our JSON.
const realLog = console.log;
console.log = (...args) => process.stderr.write(args.map(String).join(' ') + '\n');
console.info = console.log;
const warnings = [];
console.warn = (...args) => {
  warnings.push(args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : '')).join(' '));
};

function imageIdOf(img) {
  return `spinecase:${img.sopInstanceUID}:${img.frame || 1}`;
}

function registerImages(images) {
  const byId = new Map(images.map((img) => [imageIdOf(img), img]));
  const provider = (type, imageId) => {
    const img = byId.get(imageId);
    if (!img) return undefined;
    const iop = img.imageOrientationPatient;
    if (type === 'imagePlaneModule') {
      // As @cornerstonejs/dicom-image-loader's metadata provider fills it.
      return {
        frameOfReferenceUID: img.frameOfReferenceUID,
        rows: img.rows,
        columns: img.columns,
        imageOrientationPatient: iop,
        rowCosines: iop.slice(0, 3),
        columnCosines: iop.slice(3, 6),
        imagePositionPatient: img.imagePositionPatient,
        pixelSpacing: img.pixelSpacing,
        rowPixelSpacing: img.pixelSpacing[0],
        columnPixelSpacing: img.pixelSpacing[1],
      };
    }
    if (type === 'sopCommonModule') {
      return { sopInstanceUID: img.sopInstanceUID, sopClassUID: img.sopClassUID };
    }
    if (type === 'instance') {
      return {
        ...img.instance,
        SOPInstanceUID: img.sopInstanceUID,
        SOPClassUID: img.sopClassUID,
        SeriesInstanceUID: img.seriesInstanceUID,
        StudyInstanceUID: img.studyInstanceUID,
        FrameOfReferenceUID: img.frameOfReferenceUID,
      };
    }
    if (type === 'frameNumber') return img.frame || 1;
    return undefined;
  };
  metaData.addProvider(provider, 10000);
  return byId;
}

function readSR(path) {
  const buf = fs.readFileSync(path);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const dicomData = dcmjs.data.DicomMessage.readFile(ab);
  const dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dicomData.dict);
  dataset._meta = dcmjs.data.DicomMetaDictionary.namifyDataset(dicomData.meta);
  return dataset;
}

const asArray = (x) => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

function groupsOf(dataset) {
  const measurements = asArray(dataset.ContentSequence).find(
    (item) => item.ConceptNameCodeSequence?.[0]?.CodeMeaning === 'Imaging Measurements'
      || item.ConceptNameCodeSequence?.CodeMeaning === 'Imaging Measurements',
  );
  return asArray(measurements?.ContentSequence).map((group) => {
    const items = asArray(group.ContentSequence);
    const meaning = (item) => asArray(item.ConceptNameCodeSequence)[0]?.CodeMeaning;
    return {
      trackingIdentifier: items.find((i) => meaning(i) === 'Tracking Identifier')?.TextValue,
      trackingUniqueIdentifier: items.find((i) => meaning(i) === 'Tracking Unique Identifier')?.UID,
      hasCoordinates: JSON.stringify(items).includes('"SCOORD'),
    };
  });
}

function hydrate(imagesPath, ...srPaths) {
  const images = JSON.parse(fs.readFileSync(imagesPath, 'utf8'));
  registerImages(images);
  const sopToImageId = {};
  for (const img of images) sopToImageId[`${img.sopInstanceUID}:${img.frame || 1}`] = imageIdOf(img);
  realLog(JSON.stringify(srPaths.map((p) => hydrateOne(p, sopToImageId))));
}

function hydrateOne(srPath, sopToImageId) {
  warnings.length = 0;
  const dataset = readSR(srPath);
  const state = MeasurementReport.generateToolState(dataset, sopToImageId, metaData);
  const hydrated = [];
  for (const [toolType, list] of Object.entries(state)) {
    for (const m of list) {
      const data = m.annotation.data;
      hydrated.push({
        toolType,
        trackingUniqueIdentifier: m.TrackingUniqueIdentifier,
        label: data.label ?? null,
        points: (data.handles?.points || []).map((p) => Array.from(p)),
        polyline: data.contour ? data.contour.polyline.map((p) => Array.from(p)) : null,
        closed: data.contour ? data.contour.closed : null,
        referencedImageId: m.annotation.metadata.referencedImageId ?? null,
        frameOfReferenceUID: m.annotation.metadata.FrameOfReferenceUID ?? null,
      });
    }
  }
  return { sopClassUID: dataset.SOPClassUID, groups: groupsOf(dataset), hydrated, warnings: [...warnings] };
}

function generate(imagesPath, annotationsPath, outPath) {
  const images = JSON.parse(fs.readFileSync(imagesPath, 'utf8'));
  const annotations = JSON.parse(fs.readFileSync(annotationsPath, 'utf8'));
  registerImages(images);
  const toolState = {};
  annotations.forEach((a, index) => {
    const img = images[a.image];
    const imageId = imageIdOf(img);
    const points = a.points.map((p) => p.slice());
    const data = {
      handles: { points, activeHandleIndex: null, textBox: { hasMoved: false } },
      cachedStats: { [`imageId:${imageId}`]: a.cachedStats || {} },
      label: a.label || '',
    };
    if (a.toolName === 'PlanarFreehandROI') {
      data.contour = { polyline: points, closed: a.closed !== false };
      data.handles.points = [];
    }
    const annotation = {
      annotationUID: `annotation-${index}`,
      metadata: {
        toolName: a.toolName,
        referencedImageId: imageId,
        FrameOfReferenceUID: img.frameOfReferenceUID,
      },
      data,
    };
    toolState[imageId] ||= {};
    toolState[imageId][a.toolName] ||= { data: [] };
    toolState[imageId][a.toolName].data.push(annotation);
  });
  const report = MeasurementReport.generateReport(toolState, metaData, {});
  const dataset = report.dataset;
  dataset.SpecificCharacterSet = 'ISO_IR 192';
  fs.writeFileSync(outPath, dcmjs.data.datasetToBuffer(dataset));
  realLog(JSON.stringify({ written: outPath, warnings }));
}

const [command, ...args] = process.argv.slice(2);
if (command === 'hydrate') hydrate(...args);
else if (command === 'generate') generate(...args);
else {
  process.stderr.write('usage: node ohif_sr.mjs hydrate IMAGES.json SR.dcm... | generate IMAGES.json ANN.json OUT.dcm\n');
  process.exit(2);
}
// keep the unused import honest: csUtilities is the same module the adapters use for plane restrictions
void csUtilities;
